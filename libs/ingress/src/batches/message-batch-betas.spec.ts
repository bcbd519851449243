import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { DataPlaneError, type HeldCallHeaders } from '@aigw/contracts/data-plane';
import { BatchBilling } from './batch-billing';
import type { FilesAndBatchesOptions } from './files-and-batches-options';
import type { HeldObjectCalls } from './held-api';
import { MemoryHeldObjectStore } from './held-objects';
import { HeldRecords } from './held-records';
import { MessageBatchesApi } from './message-batches-api';
import { parsedConfig } from './testing/one-batch-route';
import { MESSAGE_BATCH_ROUTE_YAML } from './testing/message-batch-route';

/** An Anthropic backend that makes batch mb1 and keeps the headers each call brought. */
class Backend implements HeldObjectCalls {
  readonly heard: { call: string; headers?: HeldCallHeaders }[] = [];
  async send(
    _backend: unknown,
    method: string,
    path: string,
    _body?: unknown,
    headers?: HeldCallHeaders,
  ) {
    this.heard.push({ call: `${method} ${path}`, ...(headers && { headers }) });
    const batch = { id: 'mb1', type: 'message_batch', processing_status: 'in_progress' };
    return {
      status: 200,
      contentType: 'application/json',
      body: Buffer.from(JSON.stringify(batch)),
    };
  }
}

function create(headers: Record<string, string | string[]>, routeSettings = '') {
  const config = parsedConfig(MESSAGE_BATCH_ROUTE_YAML + routeSettings);
  const backend = new Backend();
  const options: FilesAndBatchesOptions = {
    config: () => config,
    upstream: backend,
    store: new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 }),
    ttlMs: 60_000,
    priceFactor: 0.5,
    publish: () => undefined,
  };
  const records = new HeldRecords(options, Date.now);
  const api = new MessageBatchesApi(options, records, new BatchBilling(options, records, Date.now));
  const params = {
    model: 'claude-batch',
    max_tokens: 10,
    messages: [{ role: 'user', content: 'hi' }],
  };
  const request = {
    headers,
    body: { requests: [{ custom_id: 'a', params }] },
  } as unknown as FastifyRequest;
  const made = api.create(
    request,
    () => ({ userKey: 'alice', allowedModels: [], forwardHeaders: {} }),
    () => Promise.resolve(),
    (_model, _operation, body) => body,
  );
  return { backend, made };
}

describe("a message batch's anthropic-beta", () => {
  it('reaches its backend on the create, as a /v1/messages call sends it', async () => {
    const { backend, made } = create({
      'anthropic-beta': 'interleaved-thinking-2025-05-14, context-1m-2025-08-07',
    });
    await made;
    assert.deepEqual(backend.heard[0], {
      call: 'POST /messages/batches',
      headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14,context-1m-2025-08-07' },
    });
  });

  it('reaches it once per beta when the header is sent twice', async () => {
    const { backend, made } = create({ 'anthropic-beta': ['a-1', 'b-2, a-1'] });
    await made;
    assert.deepEqual(backend.heard[0].headers, { 'anthropic-beta': 'a-1,b-2' });
  });

  it('is not passed on where the route strips it (security.stripHeaders)', async () => {
    const { backend, made } = create(
      { 'anthropic-beta': 'interleaved-thinking-2025-05-14' },
      '  security: {stripHeaders: [Anthropic-Beta]}\n',
    );
    await made;
    assert.deepEqual(backend.heard[0], { call: 'POST /messages/batches' });
  });

  it('is a 400 naming the header, before the backend hears of it, when no header could carry it', async () => {
    const { backend, made } = create({ 'anthropic-beta': 'caf\u00e9-beta' });
    await assert.rejects(
      made,
      (error) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        error.param === 'anthropic-beta',
    );
    assert.deepEqual(backend.heard, []);
  });
});
