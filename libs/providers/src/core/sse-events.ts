import { createParser, type EventSourceMessage } from 'eventsource-parser';

/**
 * The most text the SSE parser may hold for an unfinished line or event. Real events are
 * a few KB; a backend that never finishes one must not grow the parser's buffer unbounded.
 */
export const MAX_SSE_EVENT_CHARS = 16 * 1024 * 1024;

/** A backend sent more than the parser may hold without finishing an event. */
export class SseEventTooLargeError extends Error {
  readonly code = 'SSE_EVENT_TOO_LARGE';

  constructor(limitChars: number) {
    super(`a stream event longer than ${limitChars} characters`);
    this.name = 'SseEventTooLargeError';
  }
}

/**
 * Decodes a byte stream of server-sent events into messages as they arrive, without
 * buffering the whole body. Framing is the SSE parser's job, not ours; so is bounding
 * what it buffers (`maxBufferSize`), which ends the stream with SseEventTooLargeError.
 */
export async function* sseMessages(
  body: AsyncIterable<Uint8Array | string>,
  maxEventChars = MAX_SSE_EVENT_CHARS,
): AsyncGenerator<EventSourceMessage> {
  const pending: EventSourceMessage[] = [];
  let overflowed = false;
  const parser = createParser({
    onEvent: (message) => pending.push(message),
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') overflowed = true;
    },
    maxBufferSize: maxEventChars,
  });
  const decoder = new TextDecoder();
  const feed = (text: string): void => {
    parser.feed(text);
    if (overflowed) throw new SseEventTooLargeError(maxEventChars);
  };
  for await (const chunk of body) {
    feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    while (pending.length > 0) yield pending.shift()!;
  }
  feed(decoder.decode());
  while (pending.length > 0) yield pending.shift()!;
}
