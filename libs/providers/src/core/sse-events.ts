import { createParser, type EventSourceMessage } from 'eventsource-parser';

/**
 * Decodes a byte stream of server-sent events into messages as they arrive, without
 * buffering the whole body. Framing is the SSE parser's job, not ours.
 */
export async function* sseMessages(
  body: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<EventSourceMessage> {
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (message) => pending.push(message) });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    while (pending.length > 0) yield pending.shift()!;
  }
  parser.feed(decoder.decode());
  while (pending.length > 0) yield pending.shift()!;
}
