import type { JsonObject } from './data-plane.types';
import { responseCreated, responseDone, type RealtimeFrame } from './realtime';

/** A response's id as its events name it ('' when they name none). */
function responseId(event: JsonObject): string {
  const response = event.response;
  const id =
    response !== null && typeof response === 'object' && !Array.isArray(response)
      ? (response as JsonObject).id
      : undefined;
  return typeof id === 'string' ? id : '';
}

/**
 * The responses a Realtime backend is generating now: `response.created` heard, its
 * `response.done` (which carries its usage) not yet. A session closed under one must ask
 * for its cancellation and wait for that `response.done`, or what it used is never billed.
 */
export class ResponsesInFlight {
  private readonly ids = new Set<string>();

  get size(): number {
    return this.ids.size;
  }

  /** Notes a backend frame (only response.created and response.done count). */
  heard(frame: RealtimeFrame): void {
    const created = responseCreated(frame);
    if (created) {
      this.ids.add(responseId(created));
      return;
    }
    const done = responseDone(frame);
    if (!done) return;
    const id = responseId(done);
    // A response.done naming no id we know ends the oldest response in flight.
    this.ids.delete(this.ids.has(id) ? id : (this.ids.values().next().value ?? ''));
  }

  /** One `response.cancel` per response in flight, naming it when its events did. */
  cancelFrames(): string[] {
    return [...this.ids].map((id) =>
      JSON.stringify({ type: 'response.cancel', ...(id ? { response_id: id } : {}) }),
    );
  }
}
