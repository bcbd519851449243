import type { ServerResponse } from 'node:http';
import {
  type AnswerMode,
  FakeProviderServer,
  type ProviderFakeCall,
  sendJson,
  SseWriter,
} from './fake-provider-server';
import {
  builtInToolAnswer,
  builtInToolEvents,
  builtInToolsAsked,
} from './fake-gemini-builtin-tools';

const WORDS = ['Hello', ' from', ' Gemini', '.'];
const RESULT_WORDS = ['It is', ' 18°C', ' in Paris.'];
/** The thoughtSignature this fake signs its function calls with (opaque base64, as Gemini's). */
export const FAKE_GEMINI_SIGNATURE = Buffer.from('fake-gemini-thought-1').toString('base64');
/** The one it puts on the last part of an answer without calls, which need not come back. */
const TEXT_SIGNATURE = Buffer.from('fake-gemini-thought-text').toString('base64');
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

interface GeminiContent {
  role?: string;
  parts?: Record<string, unknown>[];
}

/**
 * Where Gemini 3 refuses a request: the first functionCall part of a model step in the
 * current turn (everything after the last user content that is not function responses)
 * without a thoughtSignature. Earlier turns are not checked, as Gemini checks none.
 */
function unsignedFunctionCall(body: Record<string, unknown>): string | undefined {
  const contents = Array.isArray(body.contents) ? (body.contents as GeminiContent[]) : [];
  const isPrompt = (content: GeminiContent) =>
    content.role === 'user' && (content.parts ?? []).some((part) => !('functionResponse' in part));
  const turnStart = contents.findLastIndex(isPrompt);
  for (const [index, content] of contents.entries()) {
    if (index <= turnStart || content.role !== 'model') continue;
    const first = content.parts?.find((part) => 'functionCall' in part);
    if (first && typeof first.thoughtSignature !== 'string') {
      const name = (first.functionCall as { name?: string }).name;
      return `Function call \`${name}\` in contents[${index}] is missing a thought_signature in functionCall parts; see https://ai.google.dev/gemini-api/docs/thought-signatures`;
    }
  }
  return undefined;
}

/** The request's functionCallingConfig mode (AUTO, ANY, NONE), if it sets one. */
function callingMode(body: Record<string, unknown>): unknown {
  const config = body.toolConfig as { functionCallingConfig?: { mode?: unknown } } | undefined;
  return config?.functionCallingConfig?.mode;
}

/**
 * Where the Gemini API (2.5 and earlier; Vertex AI takes it) refuses a request: a
 * functionCallingConfig with no function declarations for it to govern.
 */
function callingConfigWithoutDeclarations(body: Record<string, unknown>): boolean {
  const config = body.toolConfig as { functionCallingConfig?: unknown } | undefined;
  if (config?.functionCallingConfig === undefined) return false;
  const tools = Array.isArray(body.tools) ? (body.tools as Record<string, unknown>[]) : [];
  return !tools.some((tool) => Array.isArray(tool.functionDeclarations));
}

/** Whether the conversation ends in function results, which the model answers in text. */
function endsInFunctionResponses(body: Record<string, unknown>): boolean {
  const contents = Array.isArray(body.contents) ? (body.contents as GeminiContent[]) : [];
  const parts = contents.at(-1)?.parts ?? [];
  return parts.length > 0 && parts.every((part) => 'functionResponse' in part);
}

/** The candidates a request asks for (generationConfig.candidateCount), 1 by default. */
function candidateCount(body: Record<string, unknown>): number {
  const config = body.generationConfig as { candidateCount?: unknown } | undefined;
  return typeof config?.candidateCount === 'number' ? config.candidateCount : 1;
}

/**
 * A stream of `count` candidates as Gemini interleaves them. Each event but the last two
 * carries every candidate's next word, the highest index first; candidate 0 names no
 * `index` (protobuf's JSON leaves a zero out), so it is not at its place in the list.
 * Candidate k says "Candidate k from Gemini." and the candidates finish in different
 * events: the next to last carries each candidate's last word and the finish of all but
 * candidate 0 (STOP for an even k, MAX_TOKENS for an odd one, so each choice's finish
 * reason can be told apart); the last carries candidate 0's finish alone, without
 * content, and the only whole usage.
 */
function interleavedCandidates(
  count: number,
  names: { modelVersion: string | undefined; responseId: string },
): Record<string, unknown>[] {
  const words = (index: number) => [`Candidate ${index}`, ...WORDS.slice(1)];
  const partial = { promptTokenCount: USAGE.promptTokenCount, totalTokenCount: 30 };
  const highestFirst = Array.from({ length: count }, (_, at) => count - 1 - at);
  const events: Record<string, unknown>[] = [];
  for (let round = 0; round < WORDS.length; round++) {
    const last = round === WORDS.length - 1;
    events.push({
      candidates: highestFirst.map((index) => ({
        content: { role: 'model', parts: [{ text: words(index)[round] }] },
        ...(last && index > 0 ? { finishReason: index % 2 === 0 ? 'STOP' : 'MAX_TOKENS' } : {}),
        ...(index > 0 ? { index } : {}),
      })),
      usageMetadata: partial,
      ...names,
    });
  }
  events.push({ candidates: [{ finishReason: 'STOP' }], usageMetadata: USAGE, ...names });
  return events;
}

/**
 * A generateContent answer of `count` candidates as Gemini may send it: the highest index
 * first, and candidate 0 naming no `index` (protobuf's JSON leaves a zero out), so neither
 * a candidate's place in the list nor the `index` field alone says which one it is.
 * Candidate k says "Candidate k from Gemini." and finishes STOP for an even k, MAX_TOKENS
 * for an odd one, as in interleavedCandidates.
 */
function unorderedCandidates(count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, at) => count - 1 - at).map((index) => ({
    content: { role: 'model', parts: [{ text: `Candidate ${index} from Gemini.` }] },
    finishReason: index % 2 === 0 ? 'STOP' : 'MAX_TOKENS',
    ...(index > 0 ? { index } : {}),
  }));
}

/**
 * The Gemini API as documented, behaving as Gemini 3 does with function calls:
 * `/v1beta/models/{model}:generateContent`, `:streamGenerateContent?alt=sse` (partial
 * responses, no end marker) and `:batchEmbedContents` (at most 100 requests a call),
 * keyed by `x-goog-api-key`. With function declarations in the request (and a calling mode
 * other than NONE) it answers with a functionCall to the first one, signed with FAKE_GEMINI_SIGNATURE, unless the
 * conversation ends in function responses, which it answers in text; a request whose current turn has a model step whose first
 * functionCall part is unsigned is refused (400 INVALID_ARGUMENT), as Gemini 3 refuses it.
 * With candidateCount above 1 (and no function to call) it answers that many candidates,
 * not in index order (unorderedCandidates), or streams them interleaved. With a built-in
 * tool (googleSearch, codeExecution, ...) it answers with code run, its result and the
 * tools' metadata and usage (fake-gemini-builtin-tools).
 */
export class FakeGeminiUpstream extends FakeProviderServer {
  /** Whether a functionCallingConfig without function declarations is taken (Vertex's way). */
  protected readonly takesCallingConfigAlone: boolean = false;

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
      // Google serves a tuned model's calls under its own collection (tunedModels.generateContent).
      !/^\/v1beta\/(models|tunedModels)\/[^/:]+:(generateContent|streamGenerateContent|batchEmbedContents)$/.test(
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
      if (requests.length > 100) {
        // Gemini's own refusal of a longer batch.
        const message =
          '* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n';
        return sendJson(
          response,
          { error: { code: 400, message, status: 'INVALID_ARGUMENT' } },
          400,
        );
      }
      return sendJson(response, {
        embeddings: requests.map((_, index) => ({ values: [0.5, index, -0.5] })),
      });
    }
    const unsigned = unsignedFunctionCall(call.body);
    if (unsigned) {
      return sendJson(
        response,
        { error: { code: 400, message: unsigned, status: 'INVALID_ARGUMENT' } },
        400,
      );
    }
    if (!this.takesCallingConfigAlone && callingConfigWithoutDeclarations(call.body)) {
      const message = 'Function calling config is set without function_declarations.';
      return sendJson(response, { error: { code: 400, message, status: 'INVALID_ARGUMENT' } }, 400);
    }
    const modelVersion = call.path.split('/').at(-1)?.split(':')[0];
    const builtIn = builtInToolsAsked(call.body);
    const tools = call.body.tools as { functionDeclarations?: { name: string }[] }[] | undefined;
    const tool = tools?.[0]?.functionDeclarations?.[0]?.name;
    const functionCall = tool &&
      callingMode(call.body) !== 'NONE' &&
      !endsInFunctionResponses(call.body) && {
        functionCall: { name: tool, args: { city: 'Paris' } },
        thoughtSignature: FAKE_GEMINI_SIGNATURE,
      };
    const words = tool ? RESULT_WORDS : WORDS;
    const count = candidateCount(call.body);
    if (method === 'generateContent') {
      if (builtIn.length > 0) return sendJson(response, builtInToolAnswer(builtIn, modelVersion));
      if (count > 1 && !functionCall) {
        return sendJson(response, {
          candidates: unorderedCandidates(count),
          usageMetadata: USAGE,
          modelVersion,
          responseId: 'resp-gemini-1',
        });
      }
      return sendJson(response, {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [
                { text: 'Thinking about it', thought: true },
                ...(functionCall
                  ? [functionCall]
                  : [{ text: words.join(''), thoughtSignature: TEXT_SIGNATURE }]),
              ],
            },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: USAGE,
        modelVersion,
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
      modelVersion,
      responseId: 'resp-gemini-1',
    });
    const steps =
      builtIn.length > 0
        ? builtInToolEvents(builtIn, modelVersion)
        : functionCall
          ? [chunk([{ text: 'Checking.' }], false), chunk([functionCall], true)]
          : count > 1
            ? interleavedCandidates(count, { modelVersion, responseId: 'resp-gemini-1' })
            : words.map((text, index) => {
                const last = index === words.length - 1;
                return chunk([last ? { text, thoughtSignature: TEXT_SIGNATURE } : { text }], last);
              });
    for (const step of steps) if (!sse.send(step)) return;
    sse.end();
  }
}
