/**
 * The signal a stream attempt runs under: the call's, plus a way to cancel this attempt
 * alone. A stream whose first event comes too late is given up while its adapter still
 * waits on the body; returning its iterator cannot interrupt that wait, so only aborting
 * this signal lets go of the backend's connection before the request timeout.
 */
export interface StreamAttemptSignal {
  readonly signal: AbortSignal;
  /** Cancels the attempt: the adapter stops reading and lets go of its connection. */
  abandon(reason: unknown): void;
  /** The attempt is over: stops following the call's signal (it outlives the attempt). */
  release(): void;
}

export function streamAttemptSignal(callSignal: AbortSignal): StreamAttemptSignal {
  const controller = new AbortController();
  if (callSignal.aborted) {
    controller.abort(callSignal.reason);
    return { signal: controller.signal, abandon: () => undefined, release: () => undefined };
  }
  const follow = (): void => controller.abort(callSignal.reason);
  callSignal.addEventListener('abort', follow, { once: true });
  const release = (): void => callSignal.removeEventListener('abort', follow);
  return {
    signal: controller.signal,
    abandon: (reason) => {
      release();
      controller.abort(reason);
    },
    release,
  };
}
