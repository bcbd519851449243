import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { Logger } from '@aigw/observability';
import { registerFormParser } from '../forms/form-parser';
import { FilesAndBatches, type HeldObjectCalls } from './files-and-batches';
import { gatewayId } from './gateway-ids';
import { MemoryHeldObjectStore, type HeldRecord } from './held-objects';
import { logStoreAway, storeErrorFields } from './store-away-log';
import { oneBatchRoute } from './testing/one-batch-route';
import { alicePipeline } from './testing/alice-pipeline';

const PASSWORD = 'redispassw0rdsecret';
const KEY = 'sk-proj-storeawaysecret0123456789';

/** Redis's error, its text carrying the URL (with its password) it could not reach. */
function redisAway(): Error {
  return Object.assign(new Error(`connect ECONNREFUSED redis://:${PASSWORD}@redis:6379`), {
    code: 'ECONNREFUSED',
  });
}

/** A store that can be neither read nor written (Redis away). */
class AwayStore extends MemoryHeldObjectStore {
  override async get(_id: string): Promise<HeldRecord | undefined> {
    throw redisAway();
  }

  override async put(_record: HeldRecord, _ttlMs: number): Promise<void> {
    throw redisAway();
  }
}

function logged() {
  const lines: Record<string, unknown>[] = [];
  const logger = new Logger({ write: (line) => lines.push(JSON.parse(line)) });
  return { lines, logger };
}

/** The edge, its logs wired as files-and-batches-runtime wires them. */
async function edge(logger: Logger) {
  const backend: HeldObjectCalls = {
    send: async (_target, method, path) => {
      const id = method === 'DELETE' ? path.slice('/files/'.length) : 'file-made';
      return {
        status: 200,
        contentType: 'application/json',
        body: Buffer.from(JSON.stringify({ id, object: 'file', purpose: 'user_data' })),
      };
    },
  };
  const config = oneBatchRoute();
  const batches = new FilesAndBatches({
    config: () => config,
    upstream: backend,
    store: new AwayStore({ maxEntries: 100, maxBytes: 1_000_000 }),
    ttlMs: 60_000,
    priceFactor: 0.5,
    publish: () => undefined,
    onError: (what, error) => logger.warn(`files and batches: ${what} failed`, { error }),
    onStoreAway: (away) => logStoreAway(logger, away),
  });
  const app = Fastify();
  registerFormParser(app);
  const pipeline = alicePipeline();
  batches.register(app, '/v1', pipeline);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

function assertOneStoreAwayLine(
  lines: Record<string, unknown>[],
  kind: string,
  action: string,
  requestId: string | null,
): void {
  assert.equal(lines.length, 1, JSON.stringify(lines));
  const [line] = lines;
  assert.equal(line.level, 'warn');
  assert.equal(line.kind, kind);
  assert.equal(line.action, action);
  assert.ok(requestId, 'the answer names its request');
  assert.equal(line.requestId, requestId);
  assert.equal(line.reason, 'Error');
  assert.equal(line.code, 'ECONNREFUSED');
  assert.match(String(line.message), /ECONNREFUSED redis:\/\/\[REDACTED\]@redis:6379/);
  assert.ok(!JSON.stringify(lines).includes(PASSWORD), 'no Redis password');
}

describe('a files or batches call its store could not answer', () => {
  it('logs one warning naming the call, its request and the store error, never its password', async () => {
    const { lines, logger } = logged();
    const { app, url } = await edge(logger);
    try {
      const id = gatewayId('file', { route: 'batches', backend: 'b', providerId: 'file-1' });
      const response = await fetch(`${url}/v1/files/${id}`, {
        headers: { authorization: `Bearer ${KEY}` },
      });
      assert.equal(response.status, 503);
      assertOneStoreAwayLine(lines, 'file', 'retrieve', response.headers.get('x-request-id'));
      assert.ok(!JSON.stringify(lines).includes(KEY));
    } finally {
      await app.close();
    }
  });

  it('logs an upload it could not remember once, not once more for the 503', async () => {
    const { lines, logger } = logged();
    const { app, url } = await edge(logger);
    try {
      const form = new FormData();
      form.append('purpose', 'user_data');
      form.append('file', new Blob([`the file's own words ${KEY}`]), 'notes.txt');
      const response = await fetch(`${url}/v1/files`, {
        method: 'POST',
        headers: { 'x-ai-gateway-model': 'gpt-batch', authorization: `Bearer ${KEY}` },
        body: form,
      });
      assert.equal(response.status, 503);
      assertOneStoreAwayLine(lines, 'file', 'create', response.headers.get('x-request-id'));
      assert.ok(!JSON.stringify(lines).includes(KEY), 'no key, no file content');
      assert.ok(!JSON.stringify(lines).includes("the file's own words"));
    } finally {
      await app.close();
    }
  });

  it("keeps an error's text short, and names a thrown non-Error as unknown", () => {
    const long = storeErrorFields(new Error('x'.repeat(5_000)));
    assert.ok(String(long.message).length <= 300);
    assert.deepEqual(storeErrorFields('down'), { reason: 'unknown', code: undefined });
  });
});
