import assert from 'node:assert/strict';
import {
  DataPlaneError,
  type DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
  type StreamAnswer,
  type TokenUsage,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';

/** A gateway chat request as ingress would build it; `body` overrides merge in. */
export function gatewayChatRequest(
  body: JsonObject = {},
  overrides: Partial<GatewayRequest> = {},
): GatewayRequest {
  const fullBody: JsonObject = {
    model: 'client-model',
    messages: [{ role: 'user', content: 'hi' }],
    ...body,
  };
  return {
    requestId: 'req-1',
    operation: 'chat',
    requestedModel: 'client-model',
    stream: fullBody.stream === true,
    clientWantsStreamUsage:
      (fullBody.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true,
    body: fullBody,
    caller: { userKey: 'alice' },
    allowedModels: [],
    forwardHeaders: {},
    ...overrides,
  };
}

/**
 * A backend target with an optional key. Its timeouts are past a loaded machine's pauses
 * (with 500 ms, fakes answering at once timed out in CI-like load) and short enough for
 * the cases that wait one out against a hung fake.
 */
export function upstreamTarget(
  fields: Pick<UpstreamTarget, 'provider' | 'model'> & Partial<UpstreamTarget>,
  apiKey?: { headerName: string; headerPrefix?: string; value: string },
): UpstreamTarget {
  return {
    backendName: `fake-${fields.provider}`,
    requestTimeoutMs: 5_000,
    firstByteTimeoutMs: 3_000,
    credential: apiKey && {
      headerName: apiKey.headerName,
      headerPrefix: apiKey.headerPrefix ?? '',
      apiKey: { reveal: () => apiKey.value },
    },
    ...fields,
  };
}

/** Every chunk of a streamed answer. */
export async function collectStream(answer: StreamAnswer): Promise<JsonObject[]> {
  const events: JsonObject[] = [];
  for await (const event of answer.events) events.push(event);
  return events;
}

/** One string field of each chunk's delta, joined in order. */
function joinedDeltas(chunks: readonly JsonObject[], field: string): string {
  return chunks
    .map((chunk) => {
      const choice = (chunk.choices as JsonObject[] | undefined)?.[0];
      const value = (choice?.delta as JsonObject | undefined)?.[field];
      return typeof value === 'string' ? value : '';
    })
    .join('');
}

/** The text content a stream of OpenAI chunks carried. */
export function streamedText(chunks: readonly JsonObject[]): string {
  return joinedDeltas(chunks, 'content');
}

/** The reasoning a stream of OpenAI chunks carried (`delta.reasoning_content`). */
export function streamedReasoning(chunks: readonly JsonObject[]): string {
  return joinedDeltas(chunks, 'reasoning_content');
}

/** Tool calls reassembled from stream deltas, the way OpenAI clients do it. */
export function streamedToolCalls(
  chunks: readonly JsonObject[],
): { id: string; name: string; arguments: string }[] {
  const calls: { id: string; name: string; arguments: string }[] = [];
  for (const chunk of chunks) {
    const delta = (chunk.choices as JsonObject[] | undefined)?.[0]?.delta as JsonObject | undefined;
    for (const call of (delta?.tool_calls as JsonObject[] | undefined) ?? []) {
      const index = call.index as number;
      const fn = (call.function ?? {}) as { name?: string; arguments?: string };
      calls[index] ??= { id: '', name: '', arguments: '' };
      if (typeof call.id === 'string') calls[index].id = call.id;
      if (fn.name) calls[index].name += fn.name;
      if (fn.arguments) calls[index].arguments += fn.arguments;
    }
  }
  return calls;
}

/** The finish_reason of the stream's last choice that had one. */
export function streamedFinishReason(chunks: readonly JsonObject[]): unknown {
  let reason: unknown = null;
  for (const chunk of chunks) {
    const choice = (chunk.choices as JsonObject[] | undefined)?.[0];
    if (choice?.finish_reason) reason = choice.finish_reason;
  }
  return reason;
}

/** For `assert.rejects`: a DataPlaneError with this code (and a message matching, if given). */
export const isDataPlaneError =
  (code: DataPlaneErrorCode, message?: RegExp) =>
  (error: unknown): boolean =>
    error instanceof DataPlaneError &&
    error.code === code &&
    (message === undefined || message.test(error.message));

/** Usage the events accept: whole, non-negative, safe counts, no more cached than input. */
export function assertSaneUsage(usage: TokenUsage): void {
  for (const count of [usage.inputTokens, usage.outputTokens, usage.cachedInputTokens]) {
    assert.ok(Number.isSafeInteger(count) && count >= 0, `${count} is not a whole token count`);
  }
  assert.ok(usage.cachedInputTokens <= usage.inputTokens, 'more cached than input tokens');
}

/** A stream that answered in text alone: that text, no tool call, finished with `stop`. */
export function assertStreamedTextAnswer(chunks: readonly JsonObject[], text: string): void {
  assert.equal(streamedText(chunks), text);
  assert.deepEqual(streamedToolCalls(chunks), []);
  assert.equal(streamedFinishReason(chunks), 'stop');
}

/** A `response_format` asking for a JSON answer of a given shape, as the openai SDKs send it. */
export const WEATHER_FORMAT = {
  type: 'json_schema',
  json_schema: {
    name: 'weather_report',
    description: 'A weather report',
    schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

/** The same, strict: what the openai SDKs' parse helpers send for every schema. */
export const STRICT_WEATHER_FORMAT = {
  type: 'json_schema',
  json_schema: { ...WEATHER_FORMAT.json_schema, strict: true },
};

/**
 * A chat request whose first system text, user text and only tool are marked for prompt
 * caching (`cache_control`), with an unmarked system text after the mark: what each
 * adapter that caches on request must place its breakpoints by.
 */
export function cacheMarkedChatRequest(): GatewayRequest {
  const ephemeral = { type: 'ephemeral' };
  return gatewayChatRequest({
    messages: [
      {
        role: 'system',
        content: [
          { type: 'text', text: 'Stable rules.', cache_control: ephemeral },
          { type: 'text', text: 'Today is Thursday.' },
        ],
      },
      {
        role: 'user',
        content: [{ type: 'text', text: 'A long document.', cache_control: ephemeral }],
      },
    ],
    tools: [
      {
        type: 'function',
        function: { name: 'lookup', parameters: { type: 'object' } },
        cache_control: ephemeral,
      },
    ],
  });
}

/** Claude's refusal of an assistant prefill (4.6 and later), as Anthropic and Bedrock word it. */
export const PREFILL_REFUSAL =
  'This model does not support assistant message prefill. The conversation must end with a user message.';

/** A chat request ending in an assistant turn (a prefill), which newer Claude refuses. */
export function prefillChatRequest(): GatewayRequest {
  return gatewayChatRequest({
    messages: [
      { role: 'user', content: 'JSON please' },
      { role: 'assistant', content: '{"a":' },
    ],
  });
}
