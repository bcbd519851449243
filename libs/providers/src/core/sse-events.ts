import { createParser, type EventSourceMessage } from 'eventsource-parser';

/**
 * The most text the SSE parser may hold for an unfinished line or event. Real events are
 * a few KB; a backend that never finishes one must not grow the parser's buffer unbounded.
 */
export const MAX_SSE_EVENT_CHARS = 16 * 1024 * 1024;

/**
 * The most text one stream may carry, as much as a complete answer may hold
 * (MAX_ANSWER_BYTES). Streams are relayed as they come, but a Responses stream, a cached or
 * shared answer gathers all of it: a backend streaming on without end must not grow those.
 */
export const MAX_SSE_STREAM_CHARS = 256 * 1024 * 1024;

/**
 * A backend's stream ran past what one stream may carry: an SSE stream's characters, or
 * Bedrock's binary event stream's bytes (one error, so both end the same way).
 */
export class SseStreamTooLargeError extends Error {
  readonly code = 'SSE_STREAM_TOO_LARGE';

  constructor(limit: number, unit: 'characters' | 'bytes' = 'characters') {
    super(`a stream longer than ${limit} ${unit}`);
    this.name = 'SseStreamTooLargeError';
  }
}

/** A backend sent more than the parser may hold without finishing an event. */
export class SseEventTooLargeError extends Error {
  readonly code = 'SSE_EVENT_TOO_LARGE';

  constructor(limitChars: number) {
    super(`a stream event longer than ${limitChars} characters`);
    this.name = 'SseEventTooLargeError';
  }
}

/**
 * Data with no JSON value in it, only JSON's whitespace: no API's event is that, but some
 * proxies send such events (an empty `data:`) to keep a quiet connection open.
 */
const BLANK = /^[ \t\r\n]*$/;

/**
 * Decodes a byte stream of server-sent events into messages as they arrive, without
 * buffering the whole body. Framing is the SSE parser's job, not ours; so is bounding
 * what it buffers (`maxBufferSize`), which ends the stream with SseEventTooLargeError.
 * A stream past `maxStreamChars` in all ends with SseStreamTooLargeError. An event the
 * body's end cuts off before its blank line is given, as openai-node's reader does; an
 * event with blank data is not (BLANK).
 */
export async function* sseMessages(
  body: AsyncIterable<Uint8Array | string>,
  maxEventChars = MAX_SSE_EVENT_CHARS,
  maxStreamChars = MAX_SSE_STREAM_CHARS,
): AsyncGenerator<EventSourceMessage> {
  const pending: EventSourceMessage[] = [];
  let overflowed = false;
  const parser = createParser({
    onEvent: (message) => {
      if (!BLANK.test(message.data)) pending.push(message);
    },
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') overflowed = true;
    },
    maxBufferSize: maxEventChars,
  });
  const decoder = new TextDecoder();
  let streamed = 0;
  const feed = (text: string): void => {
    streamed += text.length;
    if (streamed > maxStreamChars) throw new SseStreamTooLargeError(maxStreamChars);
    parser.feed(text);
    if (overflowed) throw new SseEventTooLargeError(maxEventChars);
  };
  for await (const chunk of body) {
    feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    while (pending.length > 0) yield pending.shift()!;
  }
  feed(decoder.decode());
  // The body ended whole (a cut connection throws above), so an event the backend closed
  // without its blank line after is complete: a proxy that strips that line must not cost
  // the last event, which holds the finish and usage (Gemini, Cohere) or `[DONE]`. A
  // truncated line is then read as the bad JSON it is; a finished stream gains no event.
  parser.feed('\n\n');
  while (pending.length > 0) yield pending.shift()!;
}
