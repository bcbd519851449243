import { redact, redactString } from './redact';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const SEVERITY: Readonly<Record<LogLevel, number>> = {
  fatal: 60,
  error: 50,
  warn: 40,
  info: 30,
  debug: 20,
  trace: 10,
};

export type LogFields = Record<string, unknown>;

export interface LoggerOptions {
  /** Least severe level written. Default `info`. */
  readonly level?: LogLevel;
  /** Where each JSON line goes (without newline handling). Default: stdout. */
  readonly write?: (line: string) => void;
  /** Fields on every line of this logger (service, role, ...). */
  readonly bindings?: LogFields;
  readonly now?: () => Date;
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** Reads `AI_GATEWAY_LOG_LEVEL`; a typo is an error at start, not a silent default. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const raw = env.AI_GATEWAY_LOG_LEVEL?.trim().toLowerCase();
  if (raw === undefined || raw === '') return 'info';
  if (!isLogLevel(raw)) {
    throw new Error(`AI_GATEWAY_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got "${raw}"`);
  }
  return raw;
}

const writeStdout = (line: string): void => {
  process.stdout.write(line);
};

/**
 * JSON-lines logger. Every line passes through the redactor, so a secret handed to it by
 * mistake (a header map, an error carrying request options) is masked, never written.
 */
export class Logger {
  #level: LogLevel;
  readonly #write: (line: string) => void;
  readonly #bindings: LogFields;
  readonly #now: () => Date;

  constructor(options: LoggerOptions = {}) {
    this.#level = options.level ?? 'info';
    this.#write = options.write ?? writeStdout;
    this.#bindings = options.bindings ?? {};
    this.#now = options.now ?? (() => new Date());
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env, options: LoggerOptions = {}): Logger {
    return new Logger({ ...options, level: options.level ?? logLevelFromEnv(env) });
  }

  get level(): LogLevel {
    return this.#level;
  }

  set level(level: LogLevel) {
    this.#level = level;
  }

  isEnabled(level: LogLevel): boolean {
    return SEVERITY[level] >= SEVERITY[this.#level];
  }

  /** A logger that adds `bindings` to every line and shares this one's output and level. */
  child(bindings: LogFields): Logger {
    const child = new Logger({
      level: this.#level,
      write: this.#write,
      bindings: { ...this.#bindings, ...bindings },
      now: this.#now,
    });
    return child;
  }

  fatal(msg: string, fields?: LogFields | Error): void {
    this.log('fatal', msg, fields);
  }
  error(msg: string, fields?: LogFields | Error): void {
    this.log('error', msg, fields);
  }
  warn(msg: string, fields?: LogFields | Error): void {
    this.log('warn', msg, fields);
  }
  info(msg: string, fields?: LogFields | Error): void {
    this.log('info', msg, fields);
  }
  debug(msg: string, fields?: LogFields | Error): void {
    this.log('debug', msg, fields);
  }
  trace(msg: string, fields?: LogFields | Error): void {
    this.log('trace', msg, fields);
  }

  log(level: LogLevel, msg: string, fields?: LogFields | Error): void {
    if (!this.isEnabled(level)) return;
    const extra = fields instanceof Error ? { err: fields } : fields;
    const body = redact({ ...this.#bindings, ...extra }) as LogFields;
    // time/level/msg go first and cannot be overridden by fields.
    const line = JSON.stringify({
      ...body,
      time: this.#now().toISOString(),
      level,
      msg: redactString(msg),
    });
    this.#write(`${line}\n`);
  }
}
