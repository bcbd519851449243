import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import type { ConversationState } from '../conversations/conversation-state';
import { withoutReasoningBlocks } from '../domain/responses-response';
import { depthOf, isCheckpoint, positionAfter, walkAncestry } from './chain-position';
import type { ResponseStore } from './response-store';
import { storeUnavailable } from './store-unavailable';
import {
  liveRecord,
  type StoredEntry,
  type StoredResponse,
  type UnplacedResponse,
} from './stored-response';

/** What the operator is told of stored responses (a metric per event). */
export type ResponseStateEvent =
  | 'stored'
  | 'store_failed'
  | 'store_unavailable'
  | 'too_large'
  | 'hit'
  | 'miss'
  | 'deleted'
  | 'evicted'
  | 'chain_touch_failed';

export interface ResponseStateOptions {
  readonly store: ResponseStore;
  /** How long a record is kept. */
  readonly ttlMs: number;
  /** Responses one chain may hold, its new turn included. */
  readonly maxChainDepth?: number;
  /** Serialized bytes of the earlier turns one chain may bring back. */
  readonly maxChainBytes?: number;
  /**
   * Records also carry every earlier turn's id (`ancestors`), the only form replicas of
   * the release before the linear one read: needed while such replicas share the store
   * (a rolling upgrade), and quadratic in a chain's length.
   */
  readonly writeAncestorLists?: boolean;
  readonly onEvent?: (event: ResponseStateEvent) => void;
  /** A store that failed (Redis away): logged, never the client's error once answered. */
  readonly onError?: (what: string, error: unknown) => void;
  /** The Conversations API's state, kept in the same place (memory or Redis). */
  readonly conversations?: ConversationState;
}

/** Enough for a long agent session (each tool round trip is one response). */
export const DEFAULT_MAX_CHAIN_DEPTH = 1_000;
/** Half the edge's default body limit, so the expanded request still crosses the wire. */
export const DEFAULT_MAX_CHAIN_BYTES = 16 * 1024 * 1024;

/**
 * What a response unknown to this caller gets: the same whether absent, expired or not
 * theirs. A 404 to read or delete; named in `previous_response_id`, OpenAI's 400
 * `previous_response_not_found`, which clients test for (status and code) before sending
 * the whole conversation again.
 */
export function responseNotFound(id: string, param?: string): DataPlaneError {
  if (param === 'previous_response_id') {
    return previousResponseNotFound(`Previous response with id '${printable(id)}' not found.`);
  }
  return new DataPlaneError(
    DataPlaneErrorCode.NotFound,
    `Response with id '${printable(id)}' not found.`,
    { param, upstreamCode: 'not_found' },
  );
}

function previousResponseNotFound(message: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, {
    param: 'previous_response_id',
    upstreamCode: 'previous_response_not_found',
  });
}

/** The caller's user key as the route serving a record's model identifies callers. */
export type WhoAsks = (record: StoredResponse) => string | undefined | Promise<string | undefined>;

/**
 * Whether `record` is the caller's, as `asker` identifies them on the record's route: one
 * that cannot identify them there (a JWT route without a token) says it is not.
 */
async function askerOwns(asker: WhoAsks, record: StoredResponse): Promise<boolean> {
  const caller = await Promise.resolve(record)
    .then(asker)
    .catch(() => undefined);
  return caller !== undefined && caller === record.owner;
}

/** `whoAsks` asked once per model: a chain's records mostly share one. */
function askerByModel(whoAsks: WhoAsks): WhoAsks {
  const byModel = new Map<string, string | undefined | Promise<string | undefined>>();
  return (record) => {
    if (!byModel.has(record.model)) byModel.set(record.model, whoAsks(record));
    return byModel.get(record.model);
  };
}

/** An id as an error message may repeat it: short, and only the characters ids are made of. */
function printable(id: string): string {
  return id.slice(0, 128).replace(/[^A-Za-z0-9_-]/g, '?');
}

/**
 * Stored responses as each caller sees them: a record belongs to the user key that made
 * it, and is absent (404) for every other caller, exactly as for an id never stored.
 */
export class ResponseState {
  readonly ttlMs: number;
  private readonly maxChainDepth: number;
  private readonly maxChainBytes: number;
  private readonly writeAncestorLists: boolean;
  private readonly onEvent: (event: ResponseStateEvent) => void;
  private readonly onError: (what: string, error: unknown) => void;

  constructor(private readonly options: ResponseStateOptions) {
    this.ttlMs = options.ttlMs;
    this.maxChainDepth = options.maxChainDepth ?? DEFAULT_MAX_CHAIN_DEPTH;
    this.maxChainBytes = options.maxChainBytes ?? DEFAULT_MAX_CHAIN_BYTES;
    this.writeAncestorLists = options.writeAncestorLists ?? false;
    this.onEvent = options.onEvent ?? (() => undefined);
    this.onError = options.onError ?? (() => undefined);
  }

  /** Conversations, when kept. */
  get conversations(): ConversationState | undefined {
    return this.options.conversations;
  }

  get storeKind(): ResponseStore['kind'] {
    return this.options.store.kind;
  }

  /**
   * Keeps a finished response continuing the chain `earlier` (every turn's id, oldest
   * first, as `history` gave them; none for a first turn), and says whether it did. Its
   * earlier turns are kept as long as it is, so a chain stays whole while its newest turn
   * lives. A failure is reported, not thrown (the answer is on its way, and says
   * `store: false` when nothing was kept).
   */
  async save(record: UnplacedResponse, earlier: readonly string[] = []): Promise<boolean> {
    const { id, owner, model, input, response } = record;
    const placed: StoredResponse = {
      id,
      owner,
      model,
      input,
      response,
      ...positionAfter(earlier, this.writeAncestorLists),
    };
    let kept: boolean;
    try {
      kept = await this.options.store.put(placed, this.ttlMs);
    } catch (error) {
      this.onEvent('store_failed');
      this.onError('storing a response', error);
      return false;
    }
    this.onEvent(kept ? 'stored' : 'too_large');
    if (kept && earlier.length > 0) await this.keepAlive(earlier);
    return kept;
  }

  /** The chain's earlier turns live on with its newest; a failure leaves them their own TTL. */
  private async keepAlive(ids: readonly string[]): Promise<void> {
    try {
      await this.options.store.touch(ids, this.ttlMs);
    } catch (error) {
      this.onEvent('chain_touch_failed');
      this.onError("keeping a chain's earlier responses", error);
    }
  }

  /** The caller's record, or a 404. */
  async find(owner: string, id: string, param?: string): Promise<StoredResponse> {
    const [record] = await this.read([id]);
    if (!record || record.owner !== owner) {
      this.onEvent('miss');
      throw responseNotFound(id, param);
    }
    this.onEvent('hit');
    return record;
  }

  /**
   * The record, or a 404, for a request that names no model: `whoAsks` identifies the
   * caller by the record's own model (its route says how callers are identified), and
   * only its owner gets it.
   */
  async lookup(id: string, whoAsks: WhoAsks, param?: string): Promise<StoredResponse> {
    const [record] = await this.read([id]);
    const asker = record && (await whoAsks(record));
    if (!record || asker === undefined || asker !== record.owner) {
      this.onEvent('miss');
      throw responseNotFound(id, param);
    }
    this.onEvent('hit');
    return record;
  }

  /**
   * Deletes a record its owner looked up. A checkpoint leaves its place behind (no input,
   * no output, no owner), so its chain's later turns still list the turns before it.
   */
  async remove(record: StoredResponse): Promise<void> {
    const { id, ancestors, depth, lineage } = record;
    try {
      const place = { ancestors, depth, lineage };
      const marked =
        isCheckpoint(record) &&
        (await this.options.store.put({ id, deleted: true, ...place }, this.ttlMs));
      // Not a checkpoint, or its marker not kept: the record goes all the same.
      if (!marked) await this.options.store.delete(id);
    } catch (error) {
      throw this.unavailable('deleting a stored response', error);
    }
    this.onEvent('deleted');
  }

  /** The records under these ids (not deleted ones), or a 503 when the store cannot be read. */
  private async read(ids: readonly string[]): Promise<(StoredResponse | undefined)[]> {
    return (await this.readEntries(ids)).map(liveRecord);
  }

  private async readEntries(ids: readonly string[]): Promise<(StoredEntry | undefined)[]> {
    if (ids.length === 0) return [];
    try {
      return await this.options.store.get(ids);
    } catch (error) {
      throw this.unavailable('reading a stored response', error);
    }
  }

  /**
   * The turns before `last`, oldest first: their ids as far as its chain can be walked
   * back, and their records (undefined for one gone or deleted). `brokenAt` names the
   * checkpoint that was gone, before which nothing could be found.
   */
  private async earlierTurns(last: StoredResponse): Promise<{
    ids: string[];
    records: (StoredResponse | undefined)[];
    brokenAt?: string;
  }> {
    const { ids, read, brokenAt } = await walkAncestry(last, (some) => this.readEntries(some));
    const unread = ids.filter((id) => !read.has(id));
    (await this.readEntries(unread)).forEach((entry, index) => {
      if (entry) read.set(unread[index], entry);
    });
    const records = ids.map((id) => liveRecord(read.get(id)));
    return { ids, records, ...(brokenAt !== undefined && { brokenAt }) };
  }

  /** Reported (counted and logged) as the 503 the client is given. */
  private unavailable(what: string, error: unknown): DataPlaneError {
    this.onEvent('store_unavailable');
    this.onError(what, error);
    return storeUnavailable('response', error);
  }

  /**
   * What `GET /v1/responses/{id}/input_items` lists for `record`, oldest first: as OpenAI
   * lists a chained response's, every earlier turn's input and output, then its own input.
   * An earlier turn expired, deleted or not the caller's (asked as `history` asks) is left
   * out: a listing shows what remains, and only continuing the chain refuses it. Earlier
   * reasoning items carry their thinking blocks only when `withReasoningBlocks`.
   */
  async inputItems(
    record: StoredResponse,
    whoAsks: WhoAsks,
    withReasoningBlocks: boolean,
  ): Promise<JsonObject[]> {
    if (depthOf(record) === 0) return [...record.input];
    const asker = askerByModel(whoAsks);
    const items: JsonObject[] = [];
    // A chain broken at a checkpoint lists the turns after it: all that can be found.
    for (const earlier of (await this.earlierTurns(record)).records) {
      if (!earlier || !(await askerOwns(asker, earlier))) continue;
      const output = withReasoningBlocks
        ? earlier.response.output
        : withoutReasoningBlocks(earlier.response.output);
      items.push(...earlier.input, ...(output as unknown as JsonObject[]));
    }
    return [...items, ...record.input];
  }

  /**
   * The conversation `previousId` ends: every turn's input then output, oldest first.
   * 404 when the response, or an earlier one of its chain, is gone or not the caller's:
   * as for `lookup`, `whoAsks` identifies the caller by each record's own model, not by
   * the continuing request's (whose route may take an unverified header where the
   * chain's took a JWT). 400 when the chain is longer or larger than the gateway replays.
   */
  async history(
    whoAsks: WhoAsks,
    previousId: string,
  ): Promise<{ items: JsonObject[]; ids: string[] }> {
    const param = 'previous_response_id';
    const asker = askerByModel(whoAsks);
    const last = await this.lookup(previousId, asker, param);
    const held = depthOf(last) + 1;
    if (held >= this.maxChainDepth) {
      throw new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        `The conversation ending at '${printable(previousId)}' holds ${held} responses; this gateway chains at most ${this.maxChainDepth - 1}. Start a new one, sending the context you need in 'input'.`,
        { param },
      );
    }
    const earlier = await this.earlierTurns(last);
    const gone = (id: string) => {
      this.onEvent('miss');
      return previousResponseNotFound(
        `Previous response with id '${printable(previousId)}' cannot be continued: an earlier response of its conversation ('${printable(id)}') has expired or was deleted.`,
      );
    };
    if (earlier.brokenAt !== undefined) throw gone(earlier.brokenAt);
    const chain: StoredResponse[] = [];
    for (const [index, record] of earlier.records.entries()) {
      if (!record || !(await askerOwns(asker, record))) throw gone(earlier.ids[index]);
      chain.push(record);
    }
    chain.push(last);
    const items: JsonObject[] = [];
    let bytes = 0;
    for (const record of chain) {
      for (const item of [
        ...record.input,
        ...(record.response.output as unknown as JsonObject[]),
      ]) {
        bytes += Buffer.byteLength(JSON.stringify(item));
        items.push(item);
      }
    }
    if (bytes > this.maxChainBytes) {
      throw new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        `The conversation ending at '${printable(previousId)}' is larger than the ${this.maxChainBytes} bytes this gateway replays. Start a new one, sending the context you need in 'input'.`,
        { param },
      );
    }
    return { items, ids: [...earlier.ids, last.id] };
  }

  async close(): Promise<void> {
    await this.options.conversations?.close();
    try {
      await this.options.store.close();
    } catch (error) {
      this.onError('closing the response store', error);
    }
  }
}
