// @clickhouse/client from CLICKHOUSE_URL. Works against ClickHouse 18.16 (our oldest) and
// current releases: no server-side query parameters (18.16 has none), so values reach SQL
// only through `sqlString`/`sqlIdentifier` below or in JSONEachRow bodies.
import type { ClickHouseClient, Logger as ClickHouseLogger } from '@clickhouse/client';
import { clickhouseClient } from '../client-libraries';

export class ClickHouseConfigError extends Error {
  override name = 'ClickHouseConfigError';
}

/** Where the client's own log lines go: the service's JSON logger. */
export interface ClickHouseLogSink {
  warn(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}

export interface ClickHouseClientOptions {
  readonly url?: string;
  readonly database?: string;
  readonly requestTimeoutMs?: number;
  /**
   * The client's own log lines, as JSON lines of the service's logger; without it the
   * client prints multi-line text to stderr for every failed request.
   */
  readonly logger?: ClickHouseLogSink;
}

/** How long the client waits for a request, unless told otherwise. */
export const CLICKHOUSE_REQUEST_TIMEOUT_MS = 30_000;

export function createClickHouseClient(options: ClickHouseClientOptions = {}): ClickHouseClient {
  const url = options.url ?? process.env.CLICKHOUSE_URL;
  if (!url) throw new ClickHouseConfigError('CLICKHOUSE_URL is not set');
  if (!/^https?:\/\//.test(url)) {
    throw new ClickHouseConfigError('CLICKHOUSE_URL: expected an http:// or https:// URL');
  }
  return clickhouseClient().createClient({
    url,
    ...(options.database ? { database: options.database } : {}),
    request_timeout: options.requestTimeoutMs ?? CLICKHOUSE_REQUEST_TIMEOUT_MS,
    // Compressed responses need a setting 18.16's HTTP handler treats differently; the
    // payloads here are small.
    compression: { request: false, response: false },
    ...(options.logger ? { log: { LoggerClass: clientLoggerFor(options.logger) } } : {}),
  });
}

/**
 * The client's logger class (it constructs one itself) writing to `sink`. Its errors are a
 * request that failed, which also rejects to the caller that made it (logged and counted
 * there with its context), so they are warnings here, with the error's name and message.
 */
function clientLoggerFor(sink: ClickHouseLogSink): new () => ClickHouseLogger {
  const line = (module: string, message: string) => `clickhouse client: ${module}: ${message}`;
  const fields = (args?: Record<string, unknown>, err?: Error) => ({
    ...(args?.operation !== undefined ? { operation: args.operation } : {}),
    ...(err ? { error: `${err.name}: ${err.message}` } : {}),
  });
  return class implements ClickHouseLogger {
    trace({ module, message, args }: Parameters<ClickHouseLogger['trace']>[0]): void {
      sink.debug(line(module, message), fields(args));
    }
    debug({ module, message, args }: Parameters<ClickHouseLogger['debug']>[0]): void {
      sink.debug(line(module, message), fields(args));
    }
    info({ module, message, args }: Parameters<ClickHouseLogger['info']>[0]): void {
      sink.debug(line(module, message), fields(args));
    }
    warn({ module, message, args, err }: Parameters<ClickHouseLogger['warn']>[0]): void {
      sink.warn(line(module, message), fields(args, err));
    }
    error({ module, message, args, err }: Parameters<ClickHouseLogger['error']>[0]): void {
      sink.warn(line(module, message), fields(args, err));
    }
  };
}

/** A ClickHouse string literal: backslash and quote escaped, as its parser expects. */
export function sqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A table or column name; only plain identifiers are accepted, never escaped input. */
export function sqlIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new Error(`not a plain SQL identifier: ${name}`);
  return name;
}

export interface ServerVersion {
  readonly text: string;
  readonly parts: readonly number[];
}

export function parseServerVersion(text: string): ServerVersion {
  const parts = text
    .trim()
    .split('.')
    .map((p) => Number.parseInt(p, 10))
    .filter((n) => Number.isFinite(n));
  if (parts.length === 0) throw new Error(`unrecognised ClickHouse version "${text}"`);
  return { text: text.trim(), parts };
}

/** -1, 0 or 1 as `version` is older than, equal to or newer than `other` (missing parts = 0). */
export function compareVersions(version: readonly number[], other: readonly number[]): number {
  for (let i = 0; i < Math.max(version.length, other.length); i++) {
    const a = version[i] ?? 0;
    const b = other[i] ?? 0;
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

export async function serverVersion(client: ClickHouseClient): Promise<ServerVersion> {
  const result = await client.query({
    query: 'SELECT version() AS version',
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ version: string }>();
  const first = rows[0];
  if (!first) throw new Error('SELECT version() returned no row');
  return parseServerVersion(first.version);
}
