import type {
  GatewayAnswer,
  JsonObject,
  ProviderPort,
  RouterPort,
} from '@aigw/contracts/data-plane';
import type { DrainDeadline } from './drain-deadline';

/** Where a call was when the drain deadline ended it: no answer yet, or mid-stream. */
export type DrainCutPhase = 'waiting' | 'streaming';

/** Told of each call the drain deadline ended (the metric). */
export type DrainCutReport = (phase: DrainCutPhase) => void;

/**
 * The router bounded by the drain deadline: a call runs on a signal that also aborts at the
 * deadline, so no failover attempt or retry delay starts past it and the attempt in flight
 * is cancelled upstream (its adapter settles the usage seen so far); the call then fails
 * with the deadline's 503, and a started stream ends in that error rather than just
 * stopping, which a client would take for a complete answer.
 */
export function drainBoundedRouter(
  router: RouterPort,
  drain: DrainDeadline,
  onCut: DrainCutReport,
): RouterPort {
  return {
    listModels: () => router.listModels(),
    route: (request, signal) =>
      withinDrain(drain, signal, onCut, (bounded) => router.route(request, bounded)),
  };
}

/** The provider calls bounded the same way (the provider-adapter, which has no router). */
export function drainBoundedProviders(
  providers: ProviderPort,
  drain: DrainDeadline,
  onCut: DrainCutReport,
): ProviderPort {
  return {
    invoke: (call) =>
      withinDrain(drain, call.signal, onCut, (bounded) =>
        providers.invoke({ ...call, signal: bounded }),
      ),
  };
}

async function withinDrain(
  drain: DrainDeadline,
  signal: AbortSignal,
  onCut: DrainCutReport,
  call: (bounded: AbortSignal) => Promise<GatewayAnswer>,
): Promise<GatewayAnswer> {
  if (drain.passed) {
    onCut('waiting');
    throw drain.error;
  }
  let answer: GatewayAnswer;
  try {
    answer = await call(AbortSignal.any([signal, drain.signal]));
  } catch (error) {
    // The caller gone first is its hang-up, not the drain's cut.
    if (!drain.passed || signal.aborted) throw error;
    onCut('waiting');
    throw drain.error;
  }
  if (answer.kind !== 'stream') return answer;
  return { ...answer, events: cutAtDeadline(answer.events, drain, signal, onCut) };
}

/** A stream's events until the deadline, which ends it with the deadline's error. */
async function* cutAtDeadline(
  events: AsyncIterable<JsonObject>,
  drain: DrainDeadline,
  signal: AbortSignal,
  onCut: DrainCutReport,
): AsyncGenerator<JsonObject> {
  const iterator = events[Symbol.asyncIterator]();
  // Raced with each event: the stream may be waiting on a backend that is slow to notice
  // the abort, and the error must reach the client before the pod is killed.
  let onDeadline: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    onDeadline = () => reject(drain.error);
    if (drain.passed) onDeadline();
    else drain.signal.addEventListener('abort', onDeadline, { once: true });
  });
  deadline.catch(() => undefined); // only raced; never left unhandled
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), deadline]);
      if (next.done) return;
      yield next.value;
    }
  } catch (error) {
    if (!drain.passed || signal.aborted) throw error;
    onCut('streaming');
    throw drain.error;
  } finally {
    drain.signal.removeEventListener('abort', onDeadline!);
    // Cut: the iterator may still wait on the backend, and its return() would queue behind.
    if (drain.passed) void iterator.return?.()?.catch(() => undefined);
    else await iterator.return?.();
  }
}
