/** The signal an upstream call runs under, and the way to let go of it. */
export interface CallDeadline {
  readonly signal: AbortSignal;
  /** Clears the timer and the listener; call once the response body is done with. */
  release(this: void): void;
}

/**
 * The caller's signal plus the request timeout as one signal whose timer and listener
 * are released as soon as the call is over. `AbortSignal.any` with `AbortSignal.timeout`
 * does the same job but keeps each call's timer, signals and weak references alive until
 * the timeout fires: at a few thousand requests a second and a 60 s timeout that was
 * most of the gateway's heap.
 */
export function callDeadline(callerSignal: AbortSignal, timeoutMs: number): CallDeadline {
  const controller = new AbortController();
  if (callerSignal.aborted) {
    controller.abort(callerSignal.reason);
    return { signal: controller.signal, release: () => undefined };
  }
  const onCallerAbort = () => controller.abort(callerSignal.reason);
  callerSignal.addEventListener('abort', onCallerAbort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new DOMException('The upstream call timed out', 'TimeoutError')),
    timeoutMs,
  );
  return {
    signal: controller.signal,
    release: () => {
      clearTimeout(timer);
      callerSignal.removeEventListener('abort', onCallerAbort);
    },
  };
}
