import type { ServerResponse } from 'node:http';
import {
  type AnswerMode,
  FakeProviderServer,
  type ProviderFakeCall,
  sendJson,
  SseWriter,
} from './fake-provider-server';

const WORDS = ['Hello', ' from', ' Azure', '.'];
const FILTERS = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
};

/**
 * The first dated api-version with `stream_options` and `max_completion_tokens` (both came
 * in 2024-09-01-preview); an older one refuses them.
 */
const FIRST_VERSION_WITH_NEWER_FIELDS = '2024-09-01';

function fieldUnknownTo(version: string, body: Record<string, unknown>): string | undefined {
  if (version.slice(0, 10) >= FIRST_VERSION_WITH_NEWER_FIELDS) return undefined;
  return ['stream_options', 'max_completion_tokens'].find((field) => field in body);
}

/**
 * Azure OpenAI's data plane as documented: `/openai/deployments/{id}/...?api-version=`, or
 * the v1 API's `/openai/v1/...` (no api-version, the deployment as the body's `model`),
 * OpenAI-shaped bodies with content-filter annotations, and a stream that opens with a
 * choice-less prompt-filter chunk.
 */
export class FakeAzureOpenAiUpstream extends FakeProviderServer {
  /** The resource endpoint, as configured in a backend's baseUrl. */
  get baseUrl(): string {
    return this.origin;
  }

  protected override errorBody(status: number): unknown {
    return { error: { code: String(status), message: `fake azure ${status}` } };
  }

  protected override answer(call: ProviderFakeCall, response: ServerResponse, mode: AnswerMode) {
    const match =
      /^\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings|audio\/transcriptions|audio\/translations)$/.exec(
        call.path,
      );
    const v1 =
      /^\/openai\/v1\/(chat\/completions|completions|embeddings|audio\/transcriptions|audio\/translations)$/.exec(
        call.path,
      );
    const dated = match !== null && call.query['api-version'] !== undefined;
    const unversioned = v1 !== null && call.query['api-version'] === undefined;
    if (!dated && !(unversioned && typeof call.body.model === 'string')) {
      return sendJson(response, { error: { code: '404', message: 'Resource not found' } }, 404);
    }
    const operation = (match ?? v1)![dated ? 2 : 1];
    const unknown = dated ? fieldUnknownTo(call.query['api-version'], call.body) : undefined;
    if (unknown !== undefined) {
      // What Azure answers a field its api-version does not define.
      const message = `Unrecognized request argument supplied: ${unknown}`;
      return sendJson(response, { error: { code: null, message, param: null } }, 400);
    }
    const model = 'gpt-4o-2024-08-06';
    if (operation.startsWith('audio/')) {
      // Whisper on Azure: the transcript and the seconds billed.
      return sendJson(response, { text: WORDS.join(''), usage: { type: 'duration', seconds: 2 } });
    }
    if (operation === 'embeddings') {
      return sendJson(response, {
        object: 'list',
        model: 'text-embedding-3-small',
        data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }],
        usage: { prompt_tokens: 3, total_tokens: 3 },
      });
    }
    const usage = { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 };
    if (call.body.stream !== true) {
      return sendJson(response, {
        id: 'chatcmpl-azure',
        object: 'chat.completion',
        created: 1_700_000_000,
        model,
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTERS }],
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: WORDS.join('') },
            finish_reason: 'stop',
            content_filter_results: FILTERS,
          },
        ],
        usage,
      });
    }
    const sse = new SseWriter(response, mode, {
      data: { error: { code: 'server_error', message: 'fake failure mid-stream' } },
    });
    const base = {
      id: 'chatcmpl-azure',
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model,
    };
    if (
      !sse.send({
        choices: [],
        created: 0,
        id: '',
        model: '',
        object: '',
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTERS }],
      })
    ) {
      return;
    }
    for (const word of WORDS) {
      const chunk = {
        ...base,
        choices: [{ index: 0, delta: { content: word }, finish_reason: null }],
      };
      if (!sse.send(chunk)) return;
    }
    sse.send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    const options = call.body.stream_options as { include_usage?: boolean } | undefined;
    if (options?.include_usage) sse.send({ ...base, choices: [], usage });
    sse.end('data: [DONE]\n\n');
  }
}
