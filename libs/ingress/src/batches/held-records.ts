import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { BackendConfig } from '@aigw/config';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  modelNotServed,
  textWithoutBackendIdentity,
  type HeldCallHeaders,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import type { FilesAndBatchesOptions } from './files-and-batches-options';
import { gatewayId, parseGatewayId, type HeldKind } from './gateway-ids';
import {
  fromStore,
  notFound,
  targetOf,
  ttlUntil,
  type CallerOf,
  type Headers,
  type Lister,
  type Who,
} from './held-api';
import { heldBackend } from './held-backend';
import { heldOwnerOf, type HeldOwner, type HeldRecord } from './held-objects';
import { recordsOfOwners } from './owners-records';

type RecordsOptions = Pick<FilesAndBatchesOptions, 'config' | 'upstream' | 'store' | 'ttlMs'>;

/**
 * The gateway's records of held files and batches: kept under gateway ids, read back only
 * by their owner (anyone else gets the 404 an unknown id gets), and called at the backend
 * that holds them.
 */
export class HeldRecords {
  constructor(
    private readonly options: RecordsOptions,
    private readonly now: () => number,
  ) {}

  async keep(
    init: Omit<HeldRecord, 'id' | 'createdAt' | 'provider' | 'backend' | 'kind'> & {
      readonly kind: HeldKind;
      readonly backend: BackendConfig;
    },
  ): Promise<HeldRecord> {
    const id = gatewayId(init.kind, {
      route: init.route,
      backend: init.backend.name,
      providerId: init.providerId,
    });
    const record: HeldRecord = {
      ...init,
      id,
      backend: init.backend.name,
      provider: init.backend.provider,
      createdAt: this.now(),
      object: { ...init.object, id },
    };
    // A batch's `expires_at` is when it stops running, not when its backend forgets it.
    const ttl = record.kind === 'file' ? this.fileTtl(record.object) : this.options.ttlMs;
    await this.options.store.put(record, ttl);
    return record;
  }

  /**
   * How long the gateway remembers a file: its TTL, cut to the `expires_at` (Unix seconds)
   * at which the backend deletes it (one uploaded with `expires_after`, a batch's output
   * with `output_expires_after`).
   */
  fileTtl(object: JsonObject): number {
    const expiresAt = typeof object.expires_at === 'number' ? object.expires_at * 1000 : NaN;
    return ttlUntil(expiresAt, this.options.ttlMs, this.now());
  }

  /**
   * The caller's records of a kind, newest first, read under each of its owner keys
   * (`lister`). The store lists by owner key, which routes make differently (one may take
   * an unverified header): a record is kept only when its own route identifies the caller
   * as its owner, as reading one by id requires.
   */
  async listed(
    kind: HeldKind,
    max: number,
    headers: Headers,
    lister: Lister,
    who: Who,
  ): Promise<HeldRecord[]> {
    const owners = await lister(headers);
    const records = await fromStore(kind, () =>
      recordsOfOwners(this.options.store, owners, kind, max),
    );
    const asker = new Map<string, Promise<string | undefined>>();
    const askerOn = (model: string) => {
      let found = asker.get(model);
      if (!found) {
        // Not identified on that route (a JWT route without a token): not the caller's.
        found = Promise.resolve()
          .then(() => who(model, headers))
          .catch(() => undefined);
        asker.set(model, found);
      }
      return found;
    };
    const mine = await Promise.all(
      records.map(async (record) => (await askerOn(record.model)) === record.owner),
    );
    return records.filter((_, at) => mine[at]);
  }

  async owned(kind: HeldKind, request: FastifyRequest, who: Who): Promise<HeldRecord> {
    const { id } = request.params as { id: string };
    return this.ownedRecord(kind, id, request.headers, who);
  }

  /** The caller's record, or a 404 the same for an unknown id and another's object. */
  async ownedRecord(
    kind: HeldKind,
    id: string,
    headers: Headers,
    who: Who,
    param?: string,
  ): Promise<HeldRecord> {
    const record =
      parseGatewayId(kind, id) && (await fromStore(kind, () => this.options.store.get(id)));
    const asker = record ? await who(record.model, headers) : undefined;
    if (!record || record.kind !== kind || asker === undefined || asker !== record.owner) {
      const error = notFound(kind, id);
      throw param ? new DataPlaneError(error.code, error.message, { param }) : error;
    }
    return record;
  }

  /**
   * The owner of what the caller makes, as the model's route identifies callers: its owner
   * key, and its user id where that differs; 404 for a model no route serves.
   */
  async ownerOf(model: string, headers: Headers, callerOf: CallerOf): Promise<HeldOwner> {
    const caller = await callerOf(model, headers);
    if (caller === undefined) {
      throw modelNotServed(model);
    }
    return heldOwnerOf(caller);
  }

  backendOf(record: HeldRecord): BackendConfig {
    const backend = heldBackend(this.options.config(), record.route, record.backend);
    if (!backend) {
      throw new DataPlaneError(
        DataPlaneErrorCode.NoBackendAvailable,
        `The backend holding this object ("${record.backend}") is no longer configured`,
      );
    }
    return backend;
  }

  /** A GET streamed from the backend that holds the record (its whole body when it cannot be). */
  async open(
    record: HeldRecord,
    path: string,
  ): Promise<{ status: number; contentType: string; body: Readable }> {
    const target = targetOf(this.backendOf(record), record.route);
    const { upstream } = this.options;
    if (upstream.open) return this.refusalsNamed(record, upstream.open(target, path));
    const answer = await this.refusalsNamed(record, upstream.send(target, 'GET', path));
    return { ...answer, body: Readable.from([answer.body], { objectMode: false }) };
  }

  call(
    record: HeldRecord,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: { contentType: string; data: Buffer },
  ) {
    return this.refusalsNamed(
      record,
      this.callAt(this.backendOf(record), record.route, method, path, body),
    );
  }

  /**
   * A backend's call for `record`, its refusal naming the model as the owner named it: a
   * backend's words name the model it runs ("Enqueued token limit reached for
   * gpt-4o-mini-2024-07-18 ..."), which a route's `modelNameOverride` keeps from clients.
   */
  async refusalsNamed<T>(
    record: Pick<HeldRecord, 'model' | 'upstreamModel'>,
    call: Promise<T>,
  ): Promise<T> {
    try {
      return await call;
    } catch (error) {
      if (error instanceof DataPlaneError) {
        error.message = textWithoutBackendIdentity(error.message, {
          sentModel: record.upstreamModel,
          requestedModel: record.model,
        });
      }
      throw error;
    }
  }

  /** A call at `backend` of `route`, for an object the gateway may have no record of. */
  callAt(
    backend: BackendConfig,
    route: string,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: { contentType: string; data: Buffer },
    headers?: HeldCallHeaders,
  ) {
    return this.options.upstream.send(targetOf(backend, route), method, path, body, headers);
  }
}
