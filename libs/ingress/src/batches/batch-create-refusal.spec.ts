import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import type { HeldObjectCalls } from './held-api';
import { MemoryHeldObjectStore } from './held-objects';
import { batchApis, HELD_TTL_MS } from './testing/batch-apis';
import { heldOnBatchRoute } from './testing/held-record';

/**
 * A backend refusing every batch as OpenAI does when the account's queue is full, naming
 * the model it runs (`up`, which the route serves as `gpt-batch`).
 */
const refusing: HeldObjectCalls = {
  async send() {
    throw new DataPlaneError(
      DataPlaneErrorCode.UpstreamRateLimited,
      'backend "openai-batch" answered 429: Enqueued token limit reached for up-2024-07-18 in organization [REDACTED]. Limit: 90,000 enqueued tokens. Please try again once some in_progress batches have been completed.',
      { upstreamStatus: 429 },
    );
  },
};

describe("a backend's refusal of a batch", () => {
  it('names the model as the client uploaded its file for, not the one the backend runs', async () => {
    const store = new MemoryHeldObjectStore({ maxEntries: 100, maxBytes: 1_000_000 });
    const { batches } = batchApis(refusing, { store });
    const file = heldOnBatchRoute('file', 'f1', Date.now(), {
      object: { purpose: 'batch' },
      estimate: { inputTokens: 1, outputTokens: 1, requests: 1, urls: ['/v1/chat/completions'] },
    });
    await store.put(file, HELD_TTL_MS);
    const none = async () => undefined;
    await assert.rejects(
      batches.createBatch(
        {
          body: {
            input_file_id: file.id,
            endpoint: '/v1/chat/completions',
            completion_window: '24h',
          },
          headers: {},
        } as unknown as FastifyRequest,
        async () => 'alice',
        none,
        none,
      ),
      (error: unknown) => {
        assert.ok(error instanceof DataPlaneError);
        assert.equal(error.code, DataPlaneErrorCode.UpstreamRateLimited);
        assert.match(error.message, /Enqueued token limit reached for gpt-batch in organization/);
        assert.doesNotMatch(error.message, /\bup-2024/);
        return true;
      },
    );
  });
});
