/** The signals that stop a service gracefully. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * How long after the first stop signal a repeat is taken for the same stop delivered
 * twice. systemd's default stop signals every process of a unit at once and `npm start`
 * forwards its own copy to the gateway a moment later (Ctrl-C does the same through the
 * terminal's process group): that copy must not end the drain it is part of.
 */
export const REPEATED_STOP_WINDOW_MS = 1_000;

export interface StopSignalHandlers {
  /** The first SIGINT or SIGTERM: the graceful stop begins. */
  readonly stop: (signal: NodeJS.Signals) => void;
  /** A repeat past the window: an operator insisting, the calls still running end now. */
  readonly insist: (signal: NodeJS.Signals) => void;
}

/**
 * Handles SIGINT and SIGTERM for as long as the returned function is not called. Node's own
 * handling of a repeat (once a `once` listener has gone) kills the process on the spot:
 * streams cut with no error event, events not yet written lost. A repeat within the window
 * is ignored; a later one is passed to `insist`.
 */
export function handleStopSignals(
  handlers: StopSignalHandlers,
  now: () => number = Date.now,
): () => void {
  let firstAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (firstAt === undefined) {
      firstAt = now();
      handlers.stop(signal);
    } else if (now() - firstAt >= REPEATED_STOP_WINDOW_MS) {
      handlers.insist(signal);
    }
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return () => {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  };
}
