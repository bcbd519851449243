import type { GatewayAnswer, JsonObject } from '@aigw/contracts/data-plane';

// For the deduplication specs over real Redis: the answers a leader's call gives.

export const SERVED = { backend: 'b', provider: 'p', model: 'm' };
export const USAGE = {
  inputTokens: 1,
  outputTokens: 2,
  cachedInputTokens: 0,
  source: 'reported' as const,
};

/** A whole JSON answer (a new object each call). */
export function jsonAnswer(): GatewayAnswer {
  return { kind: 'json', status: 200, body: {}, usage: USAGE, servedBy: SERVED };
}

/** A stream the test releases chunk by chunk (`null` ends it). */
export function controlledStream() {
  const queue: (JsonObject | null)[] = [];
  let wake: (() => void) | undefined;
  const push = (chunk: JsonObject | null) => {
    queue.push(chunk);
    wake?.();
  };
  const answer: GatewayAnswer = {
    kind: 'stream',
    status: 200,
    servedBy: SERVED,
    usage: Promise.resolve(USAGE),
    events: (async function* () {
      for (;;) {
        while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        const next = queue.shift();
        if (next === null || next === undefined) return;
        yield next;
      }
    })(),
  };
  return { answer, push };
}
