import type { Logger } from './logger';

// Node writes each process warning to stderr as plain text ("(node:N) TimeoutNegativeWarning:
// ..."), which breaks a log pipeline that reads one JSON object a line. Here each warning is
// one line of the service's JSON logger instead: `warn`, with its type, code and message.
//
// One warning is known and harmless: kafkajs 2.x's request queue sets a timer for a negative
// delay (kafkajs issue #1751), which Node 24 reports as a TimeoutNegativeWarning on every
// occurrence; Node runs such a timer at once, as kafkajs expects. It is logged at `debug`.

/** The listener Node adds to print warnings (absent with --no-warnings or NODE_NO_WARNINGS=1). */
const NODE_PRINTER = 'onWarning';
const DISABLE_FLAG = '--disable-warning';

let current: Logger | undefined;
/** The types and codes `--disable-warning` names; Node's printer, not emitWarning, obeys them. */
let disabled: ReadonlySet<string> = new Set();

/** Whether `warning` is kafkajs's negative timer (#1751), by its type and the caller's frame. */
function isKafkajsNegativeTimeout(warning: Error): boolean {
  return warning.name === 'TimeoutNegativeWarning' && /[\\/]kafkajs[\\/]/.test(warning.stack ?? '');
}

function logWarning(warning: Error): void {
  const logger = current;
  if (!logger || !(warning instanceof Error)) return;
  const { code, detail } = warning as Error & { code?: unknown; detail?: unknown };
  if (disabled.has(warning.name) || (typeof code === 'string' && disabled.has(code))) return;
  const fields = {
    type: warning.name,
    ...(typeof code === 'string' ? { code } : {}),
    message: warning.message,
    ...(typeof detail === 'string' ? { detail } : {}),
    // As Node's printer: the stack only where asked for, to find where a warning comes from.
    ...(tracesWarning(warning) ? { stack: warning.stack } : {}),
  };
  if (isKafkajsNegativeTimeout(warning)) {
    logger.debug('kafkajs set a negative timer (kafkajs#1751, harmless)', fields);
    return;
  }
  // As Node's own printer: `--no-deprecation` silences deprecations.
  if (warning.name === 'DeprecationWarning' && process.noDeprecation) return;
  logger.warn('process warning', fields);
}

/** `--trace-warnings`, or `--trace-deprecation` for a deprecation. */
function tracesWarning(warning: Error): boolean {
  return (
    process.traceProcessWarnings ||
    (warning.name === 'DeprecationWarning' && process.traceDeprecation === true)
  );
}

/**
 * Logs the process's warnings through `logger` (the latest one given, when several services
 * share a process) in place of Node's plain-text printer. Warnings an operator silenced
 * (`--no-warnings`, `NODE_NO_WARNINGS=1`: Node added no printer; `--disable-warning`) stay
 * silent.
 */
export function logProcessWarnings(logger: Logger): void {
  const listeners = process.listeners('warning');
  const printers = listeners.filter((listener) => listener.name === NODE_PRINTER);
  const routed = listeners.includes(logWarning);
  if (!routed && printers.length === 0) return;
  current = logger;
  disabled = disabledWarnings(process.execArgv, process.env.NODE_OPTIONS);
  for (const printer of printers) process.removeListener('warning', printer);
  if (!routed) process.on('warning', logWarning);
}

/**
 * The warning types and codes given to `--disable-warning` on the command line
 * (`--disable-warning=X` or `--disable-warning X`) or in NODE_OPTIONS (also quoted).
 */
export function disabledWarnings(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): ReadonlySet<string> {
  const names = new Set<string>();
  execArgv.forEach((arg, at) => {
    if (arg.startsWith(`${DISABLE_FLAG}=`)) names.add(arg.slice(DISABLE_FLAG.length + 1));
    else if (arg === DISABLE_FLAG && at + 1 < execArgv.length) names.add(execArgv[at + 1]);
  });
  const inOptions = /--disable-warning(?:=|\s+)(?:"([^"]*)"|(\S+))/g;
  for (const match of (nodeOptions ?? '').matchAll(inOptions)) names.add(match[1] ?? match[2]);
  return names;
}
