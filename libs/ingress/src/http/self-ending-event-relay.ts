import type { ServerResponse } from 'node:http';
import type { StreamRelay } from './edge-exchange';
import { SseWriter } from './sse-writer';

/**
 * Server-sent events as OpenAI sends speech and image streams: one `data:` line each and
 * no `[DONE]` sentinel (the last event, `*.done` or `*.completed`, ends the stream); a
 * failure after the first event is an OpenAI error event, so a cut stream never looks
 * finished.
 */
export function selfEndingEventRelay(
  response: ServerResponse,
  headers: Record<string, string>,
): StreamRelay {
  const writer = new SseWriter(response);
  writer.start(headers);
  return {
    event: (event) => writer.event(event),
    end: async () => writer.close(),
    fail: (error) => writer.fail(error),
  };
}
