import { type LoggerService, type LogLevel as NestLogLevel } from '@nestjs/common';
import { type LogFields, type Logger, type LogLevel } from './logger';

// Nest's verbosity order, most severe first; `log` is its info and `verbose` its trace.
const FROM_NEST: Readonly<Record<NestLogLevel, LogLevel>> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};
const ORDER: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** Lets Nest (`app.useLogger(...)`) write through our JSON logger and its redaction. */
export class NestLoggerService implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /** Nest passes the levels to keep; ours is a threshold, so keep the most verbose one. */
  setLogLevels(levels: NestLogLevel[]): void {
    const mapped = levels.map((l) => FROM_NEST[l]);
    const lowest = ORDER.find((l) => mapped.includes(l));
    if (lowest) this.logger.level = lowest;
  }

  // Nest calls `(message, context)` or, for errors, `(message, stack, context)`.
  private write(level: LogLevel, message: unknown, params: unknown[]): void {
    if (!this.logger.isEnabled(level)) return;
    const rest = [...params];
    const fields: LogFields = {};
    const last = rest[rest.length - 1];
    if (typeof last === 'string' && !last.includes('\n')) {
      fields.context = rest.pop();
    }
    for (const param of rest) {
      if (param instanceof Error) fields.err = param;
      else if (typeof param === 'string') fields.stack = param;
      else if (param !== undefined) fields.data = param;
    }
    if (message instanceof Error) {
      this.logger.log(level, message.message, { ...fields, err: message });
    } else if (typeof message === 'string') {
      this.logger.log(level, message, fields);
    } else {
      this.logger.log(level, typeof fields.context === 'string' ? fields.context : 'nest', {
        ...fields,
        data: message,
      });
    }
  }
}
