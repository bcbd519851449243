import type { LogFields, Logger } from './logger';

/**
 * A warning for a failure that repeats while something stays down (a collector, a cache's
 * Redis): the first is logged at once, then at most one every `everyMs`, each with
 * `failures`, how many came since the last line. Without it an outage under load writes a
 * line per request. Counting every failure is the metric's job, not the log's.
 */
export function throttledWarning(
  logger: Logger,
  message: string,
  everyMs: number,
  now: () => number = Date.now,
): (fields?: LogFields) => void {
  let lastAt: number | undefined;
  let since = 0;
  return (fields = {}) => {
    since++;
    const at = now();
    if (lastAt !== undefined && at - lastAt < everyMs) return;
    logger.warn(message, { ...fields, failures: since });
    lastAt = at;
    since = 0;
  };
}
