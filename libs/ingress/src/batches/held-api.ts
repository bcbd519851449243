import type { Readable } from 'node:stream';
import type { BackendConfig } from '@aigw/config';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  upstreamTargetOf,
  type BackendCallTarget,
  type CallerContext,
  type HeldCallHeaders,
  type JsonObject,
  type Operation,
} from '@aigw/contracts/data-plane';
import type { RedactionTally } from '../redaction/redactor';
import { storeUnavailable } from '../responses/state/store-unavailable';
import type { HeldKind } from './gateway-ids';

export type Headers = Readonly<Record<string, string | string[] | undefined>>;
export type Query = Readonly<Record<string, string | string[] | undefined>>;

/** What the gateway needs of a backend call (the provider library's HeldObjectUpstream). */
export interface HeldObjectCalls {
  send(
    backend: BackendCallTarget,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: { readonly contentType: string; readonly data: Buffer },
    /** Client headers its backend is to see (a message batch's `anthropic-beta`). */
    headers?: HeldCallHeaders,
  ): Promise<{ readonly status: number; readonly contentType: string; readonly body: Buffer }>;
  /**
   * A POST whose body is sent as it is made (an upload read from its client as it
   * arrives); a body that fails aborts the call. Absent, the body is gathered and sent
   * with `send`.
   */
  upload?(
    backend: BackendCallTarget,
    path: string,
    body: { readonly contentType: string; readonly data: AsyncIterable<Uint8Array> },
  ): Promise<{ readonly status: number; readonly contentType: string; readonly body: Buffer }>;
  /**
   * A GET whose 2xx body is read as it arrives (a file's content); destroying the body
   * aborts the call. Absent, `send`'s whole body is used.
   */
  open?(
    backend: BackendCallTarget,
    path: string,
  ): Promise<{ readonly status: number; readonly contentType: string; readonly body: Readable }>;
}

/** The caller's owner key on the route serving `model` (IngressPipeline.ownerKeyFor). */
export type Who = (
  model: string,
  headers: Headers,
) => string | undefined | Promise<string | undefined>;
/** The caller (user key, tier) on the route serving `model` (IngressPipeline.callerFor). */
export type CallerOf = (
  model: string,
  headers: Headers,
) => CallerContext | undefined | Promise<CallerContext | undefined>;
/** Refuses (403) a model the caller's tier may not use. */
export type MayUse = (model: string, headers: Headers) => Promise<void>;
/** A body under the prompt rules of the route serving `model` (IngressPipeline.screenPrompt). */
export type Screen = (
  model: string,
  operation: Operation,
  body: JsonObject,
  tally: RedactionTally,
) => JsonObject;
/**
 * The owner keys a list is read under: the caller's on the model it names, else its key on
 * every route that identifies it (IngressPipeline.ownerKeysWithoutModel); none, an empty list.
 */
export type Lister = (headers: Headers) => readonly string[] | Promise<readonly string[]>;

export function invalid(message: string, param?: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

export function notFound(kind: HeldKind, id: string): DataPlaneError {
  const shown = id.slice(0, 128).replace(/[^A-Za-z0-9_-]/g, '?');
  const message =
    kind === 'file'
      ? `No such File object: ${shown}`
      : kind === 'batch'
        ? `No batch found with id '${shown}'.`
        : `No message batch found with id '${shown}'.`;
  return new DataPlaneError(DataPlaneErrorCode.NotFound, message, { param: 'id' });
}

/** A read of the gateway's records; one that fails (its store away) is the 503 to retry. */
export async function fromStore<T>(kept: HeldKind, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    // A message batch is a batch to the client reading the 503's code.
    throw storeUnavailable(kept === 'file' ? 'file' : 'batch', error);
  }
}

/**
 * How long the gateway remembers an object its backend deletes at `deletedAtMs` (NaN: it
 * never does): the TTL, cut to then, so one gone there is not listed for the rest of it.
 */
export function ttlUntil(deletedAtMs: number, ttlMs: number, now: number): number {
  if (!Number.isFinite(deletedAtMs)) return ttlMs;
  return Math.max(1, Math.min(ttlMs, deletedAtMs - now));
}

/** The backend answered that the object is not there (directly, or relayed as a 404). */
export function isGoneAtBackend(error: unknown): boolean {
  return (
    error instanceof DataPlaneError &&
    (error.code === DataPlaneErrorCode.NotFound || error.upstreamStatus === 404)
  );
}

export function jsonOf(reply: { body: Buffer }): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply.body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DataPlaneError(
      DataPlaneErrorCode.UpstreamBadResponse,
      'The backend answered the files or batches call with something other than a JSON object',
    );
  }
  return parsed as JsonObject;
}

export function firstHeader(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * How a backend of `route` is called: its URL and its own credential (the client's is
 * never sent). In the split deployment the key is held by the provider-adapter: only the
 * backend's route and name cross (two routes may share a name, each with its own key),
 * and the adapter adds that backend's key.
 */
export function targetOf(backend: BackendConfig, route: string): BackendCallTarget {
  return upstreamTargetOf(backend, backend.model ?? '', route);
}

export const enc = encodeURIComponent;

/** A list's `limit`: its range's top and the value when unset (OpenAI's, per list). */
export interface ListLimits {
  readonly max: number;
  readonly unset: number;
}

/** The batches list's (1-100, 20). */
const BATCH_LIST_LIMITS: ListLimits = { max: 100, unset: 20 };

/** `limit` and `after` (an id of the list) over items in the order listed. */
export function listPage<T>(
  items: readonly T[],
  query: Query,
  idOf: (item: T) => unknown = (item) => (item as JsonObject).id,
  limits: ListLimits = BATCH_LIST_LIMITS,
): JsonObject {
  const limitText = typeof query.limit === 'string' ? query.limit : undefined;
  const limit = limitText === undefined ? limits.unset : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > limits.max) {
    throw invalid(
      `Invalid value for 'limit': it must be a whole number from 1 to ${limits.max}.`,
      'limit',
    );
  }
  let start = 0;
  if (typeof query.after === 'string' && query.after !== '') {
    start = items.findIndex((item) => idOf(item) === query.after) + 1;
    if (start === 0) throw invalid("Invalid value for 'after': no such id in your list.", 'after');
  }
  const data = items.slice(start, start + limit) as unknown as JsonObject[];
  return {
    object: 'list',
    data,
    first_id: (data[0] as JsonObject | undefined)?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: start + limit < items.length,
  };
}
