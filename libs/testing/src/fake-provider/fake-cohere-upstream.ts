import type { ServerResponse } from 'node:http';
import {
  type AnswerMode,
  FakeProviderServer,
  type ProviderFakeCall,
  sendJson,
  SseWriter,
} from './fake-provider-server';
import { fakeRerank } from './fake-scoring';

const WORDS = ['Hello', ' from', ' Cohere', '.'];
const USAGE = {
  billed_units: { input_tokens: 12, output_tokens: 4 },
  tokens: { input_tokens: 70, output_tokens: 4 },
};

/**
 * What Cohere's v2 /chat refuses among the sampling settings, as its API reference bounds
 * them: `k` a whole number in 0 to 500, `p` in 0.01 to 0.99. Undefined when all is well.
 */
function samplingRefusal(body: Record<string, unknown>): string | undefined {
  const { k, p } = body;
  if (k !== undefined && (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > 500)) {
    return `invalid request: k must be an integer between 0 and 500, got ${JSON.stringify(k)}`;
  }
  if (p !== undefined && (typeof p !== 'number' || p < 0.01 || p > 0.99)) {
    return `invalid request: p must be between 0.01 and 0.99, got ${JSON.stringify(p)}`;
  }
  return undefined;
}

/**
 * Cohere's v2 API as documented: `POST /v2/chat` (plain, and streamed as typed SSE
 * events ending in message-end), `POST /v2/embed` (at most 96 texts a call) and
 * `POST /v2/rerank`, with a bearer key. With tools in the request it answers with a
 * tool call to the first one. A chat whose `k` or `p` is out of Cohere's bounds is
 * refused (400), as Cohere refuses it.
 */
export class FakeCohereUpstream extends FakeProviderServer {
  get baseUrl(): string {
    return this.origin;
  }

  protected override errorBody(status: number): unknown {
    return { id: 'err-1', message: `fake cohere ${status}` };
  }

  protected override reject(call: ProviderFakeCall): number | undefined {
    if (!['/v2/chat', '/v2/embed', '/v2/rerank'].includes(call.path)) return 404;
    return String(call.headers.authorization ?? '').startsWith('Bearer ') ? undefined : 401;
  }

  protected override answer(call: ProviderFakeCall, response: ServerResponse, mode: AnswerMode) {
    if (call.path === '/v2/rerank') return sendJson(response, fakeRerank(call.body, 'cohere'));
    if (call.path === '/v2/embed') {
      const texts = (call.body.texts as unknown[] | undefined) ?? [];
      if (texts.length > 96) {
        // Cohere's own refusal of a longer list.
        const message = `invalid request: total number of texts must be at most 96 - received ${texts.length}`;
        return sendJson(response, { id: 'err-texts', message }, 400);
      }
      return sendJson(response, {
        id: 'emb-1',
        embeddings: { float: texts.map((_, index) => [index, 0.25]) },
        texts,
        meta: { api_version: { version: '2' }, billed_units: { input_tokens: 3 } },
      });
    }
    const refusal = samplingRefusal(call.body);
    if (refusal) return sendJson(response, { id: 'err-sampling', message: refusal }, 400);
    const tools = call.body.tools as { function: { name: string } }[] | undefined;
    // tool_choice NONE: the model answers directly, calling none of the tools it was told of.
    const tool = call.body.tool_choice === 'NONE' ? undefined : tools?.[0]?.function.name;
    if (call.body.stream !== true) {
      return sendJson(response, {
        id: 'chat-cohere-1',
        finish_reason: tool ? 'TOOL_CALL' : 'COMPLETE',
        message: tool
          ? {
              role: 'assistant',
              tool_plan: 'I will look up the weather.',
              tool_calls: [
                {
                  id: 'get_weather_1',
                  type: 'function',
                  function: { name: tool, arguments: '{"city":"Paris"}' },
                },
              ],
            }
          : { role: 'assistant', content: [{ type: 'text', text: WORDS.join('') }] },
        usage: USAGE,
      });
    }
    const sse = new SseWriter(response, mode, {
      event: 'message-end',
      data: { type: 'message-end', delta: { finish_reason: 'ERROR' } },
    });
    const send = (data: { type: string }) => sse.send(data, data.type);
    const steps: { type: string; [key: string]: unknown }[] = [
      {
        type: 'message-start',
        id: 'chat-cohere-1',
        delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [] } },
      },
    ];
    if (tool) {
      steps.push(
        { type: 'tool-plan-delta', delta: { message: { tool_plan: 'I will look it up.' } } },
        {
          type: 'tool-call-start',
          index: 0,
          delta: {
            message: {
              tool_calls: {
                id: 'get_weather_1',
                type: 'function',
                function: { name: tool, arguments: '' },
              },
            },
          },
        },
        ...['{"city":', ' "Paris"}'].map((args) => ({
          type: 'tool-call-delta',
          index: 0,
          delta: { message: { tool_calls: { function: { arguments: args } } } },
        })),
        { type: 'tool-call-end', index: 0 },
      );
    } else {
      steps.push(
        {
          type: 'content-start',
          index: 0,
          delta: { message: { content: { type: 'text', text: '' } } },
        },
        ...WORDS.map((text) => ({
          type: 'content-delta',
          index: 0,
          delta: { message: { content: { text } } },
        })),
        { type: 'content-end', index: 0 },
      );
    }
    steps.push({
      type: 'message-end',
      delta: { finish_reason: tool ? 'TOOL_CALL' : 'COMPLETE', usage: USAGE },
    });
    for (const step of steps) if (!send(step)) return;
    sse.end();
  }
}
