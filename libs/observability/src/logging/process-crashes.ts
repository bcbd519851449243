import type { Logger } from './logger';

// An exception nothing caught (or a promise rejection nothing handled, which Node raises as
// one) ends the process. Node prints it to stderr as plain text, several lines of it and
// unredacted, so a log pipeline reading one JSON object a line loses why a pod restarted, and
// an error quoting a connection URL shows its password. Here it is one `fatal` line of the
// service's logger (its message and stack redacted as every line is), then the same exit.

let current: Logger | undefined;

/** Node's exit code for an uncaught exception. */
const CRASH_EXIT_CODE = 1;

function logCrash(error: unknown, origin: NodeJS.UncaughtExceptionOrigin): void {
  try {
    current?.fatal('process crashed: an error nothing caught', {
      origin,
      ...(error instanceof Error ? { err: error } : { thrown: String(error) }),
    });
  } finally {
    // Pipes and files take stdout's write synchronously on Linux: the line is out by now.
    process.exit(CRASH_EXIT_CODE);
  }
}

/**
 * Logs a crash (an uncaught exception, or an unhandled rejection Node raises as one) through
 * `logger` (the latest one given, when several services share a process) as one `fatal` JSON
 * line in place of Node's plain-text report, and exits with code 1 as Node would.
 */
export function logProcessCrashes(logger: Logger): void {
  const installed = current !== undefined;
  current = logger;
  if (!installed) process.on('uncaughtException', logCrash);
}
