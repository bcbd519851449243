import type {
  DataPlaneError,
  GatewayAnswer,
  JsonObject,
  ProviderPort,
  RouterPort,
} from '@aigw/contracts/data-plane';
import { BoundedStream, type StreamedCall } from './drain-bounded-stream';
import { DrainBoundCall, type DrainDeadline } from './drain-deadline';

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
  const bounded = new BoundedCall(drain, signal, onCut);
  let answer: GatewayAnswer;
  try {
    answer = await call(bounded.signal);
  } catch (error) {
    bounded.release();
    // The caller gone first is its hang-up, not the drain's cut.
    if (!drain.passed || signal.aborted) throw error;
    onCut('waiting');
    throw drain.error;
  }
  if (answer.kind !== 'stream') {
    bounded.release();
    return answer;
  }
  return { ...answer, events: bounded.streamed(answer.events) };
}

/**
 * One model call's signal: it aborts when the caller's does (one listener, removed when the
 * call ends) or when the deadline cuts the call. Per call that is a controller, a listener
 * and a slot in the drain's list (about 1 µs, bench/micro/drain-bound.ts), where
 * AbortSignal.any against the drain's long-lived signal cost twice that and left about 110
 * bytes a call on the heap for good (after a full GC).
 */
class BoundedCall extends DrainBoundCall implements StreamedCall {
  private readonly controller = new AbortController();
  /** A stream handed on and not read yet: a caller that hangs up now may never read it. */
  private unread = false;
  private stream: BoundedStream | undefined;

  constructor(
    readonly drain: DrainDeadline,
    readonly caller: AbortSignal,
    readonly onCut: DrainCutReport,
  ) {
    super();
    if (caller.aborted) this.controller.abort(caller.reason);
    // The call itself is the listener (handleEvent): no closure made per call.
    else caller.addEventListener('abort', this);
    drain.track(this);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The caller hung up: its abort goes on to the call. */
  handleEvent(): void {
    this.controller.abort(this.caller.reason);
    // Dropped unread (the edge does), it would stay tracked for good; tracked again if read.
    if (this.unread) this.release();
  }

  /** At the deadline: the call in flight is cancelled upstream, a stream's wait ended. */
  cut(error: DataPlaneError): void {
    this.controller.abort(error);
    this.stream?.deadlinePassed();
  }

  streamed(events: AsyncIterable<JsonObject>): AsyncIterableIterator<JsonObject> {
    this.unread = true;
    this.stream = new BoundedStream(events, this);
    // Its caller hung up while the stream was opened: handleEvent has run, and the edge
    // drops the stream unread, so let it go now (tracked again if read after all).
    if (this.caller.aborted) this.release();
    return this.stream;
  }

  /** The stream's first read. */
  reading(): void {
    this.unread = false;
    if (!this.drain.passed) this.drain.track(this);
  }

  release(): void {
    this.caller.removeEventListener('abort', this);
    this.drain.untrack(this);
  }
}
