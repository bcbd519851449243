import type { EventSubscription } from '@aigw/contracts';

/**
 * A subscription handler that throws `error` for any batch holding event `poisonId` and
 * otherwise adds each event's id to `handled`: the one event a store keeps refusing.
 */
export const handlerFailingOn =
  (poisonId: string, error: string, handled: Set<string>): EventSubscription['handle'] =>
  async (events) => {
    if (events.some((e) => e.eventId === poisonId)) throw new Error(error);
    for (const e of events) handled.add(e.eventId);
  };
