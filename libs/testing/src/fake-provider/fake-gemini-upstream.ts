import type { ServerResponse } from 'node:http';
import {
  type AnswerMode,
  FakeProviderServer,
  type ProviderFakeCall,
  sendJson,
  SseWriter,
} from './fake-provider-server';

const MODEL_VERSION = 'gemini-2.5-flash';
const WORDS = ['Hello', ' from', ' Gemini', '.'];
const USAGE = {
  promptTokenCount: 30,
  candidatesTokenCount: 5,
  thoughtsTokenCount: 2,
  cachedContentTokenCount: 10,
  totalTokenCount: 37,
};
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/**
 * The Gemini API as documented: `/v1beta/models/{model}:generateContent`,
 * `:streamGenerateContent?alt=sse` (partial responses, no end marker) and
 * `:batchEmbedContents`, keyed by `x-goog-api-key`. With function declarations in the
 * request it answers with a functionCall to the first one.
 */
export class FakeGeminiUpstream extends FakeProviderServer {
  get baseUrl(): string {
    return `${this.origin}/v1beta`;
  }

  protected override errorBody(status: number): unknown {
    return {
      error: {
        code: status,
        message: `fake gemini ${status}`,
        status: STATUS_NAMES[status] ?? 'UNKNOWN',
      },
    };
  }

  protected override reject(call: ProviderFakeCall): number | undefined {
    if (
      !/^\/v1beta\/models\/[^/:]+:(generateContent|streamGenerateContent|batchEmbedContents)$/.test(
        call.path,
      )
    ) {
      return 404;
    }
    return call.headers['x-goog-api-key'] ? undefined : 403;
  }

  protected override answer(call: ProviderFakeCall, response: ServerResponse, mode: AnswerMode) {
    const method = call.path.split(':').at(-1);
    if (method === 'batchEmbedContents') {
      const requests = (call.body.requests as unknown[] | undefined) ?? [];
      return sendJson(response, {
        embeddings: requests.map((_, index) => ({ values: [0.5, index, -0.5] })),
      });
    }
    const tools = call.body.tools as { functionDeclarations?: { name: string }[] }[] | undefined;
    const tool = tools?.[0]?.functionDeclarations?.[0]?.name;
    const functionCall = tool && { functionCall: { name: tool, args: { city: 'Paris' } } };
    if (method === 'generateContent') {
      return sendJson(response, {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [
                { text: 'Thinking about it', thought: true },
                ...(functionCall ? [functionCall] : [{ text: WORDS.join('') }]),
              ],
            },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: USAGE,
        modelVersion: MODEL_VERSION,
        responseId: 'resp-gemini-1',
      });
    }
    if (call.query.alt !== 'sse') return sendJson(response, this.errorBody(400), 400);
    const sse = new SseWriter(response, mode, {
      data: this.errorBody(500),
    });
    const chunk = (parts: unknown[], last: boolean) => ({
      candidates: [
        {
          content: { role: 'model', parts },
          ...(last ? { finishReason: 'STOP' } : {}),
          index: 0,
        },
      ],
      usageMetadata: last
        ? USAGE
        : { promptTokenCount: USAGE.promptTokenCount, totalTokenCount: 30 },
      modelVersion: MODEL_VERSION,
      responseId: 'resp-gemini-1',
    });
    const steps = functionCall
      ? [chunk([{ text: 'Checking.' }], false), chunk([functionCall], true)]
      : WORDS.map((text, index) => chunk([{ text }], index === WORDS.length - 1));
    for (const step of steps) if (!sse.send(step)) return;
    sse.end();
  }
}
