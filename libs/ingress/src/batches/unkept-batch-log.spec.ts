import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { Logger } from '@aigw/observability';
import { logUnkeptBatch } from './unkept-batch-log';

const KEY = 'sk-proj-unkeptbatchsecret0123456789';

function logged() {
  const lines: Record<string, unknown>[] = [];
  const logger = new Logger({ write: (line) => lines.push(JSON.parse(line)) });
  return { lines, logger };
}

/** A store or backend failure whose text carries a credential (a URL's, a backend's echo). */
const storeError = Object.assign(new Error(`redis://:${KEY}@redis:6379 timed out`), {
  code: 'ETIMEDOUT',
});

describe('a batch created but not remembered', () => {
  it('is a warning naming its backend batch id when it was cancelled there, never a key', () => {
    const { lines, logger } = logged();
    logUnkeptBatch(logger, {
      route: 'batches',
      backend: 'openai-batch',
      backendBatchId: 'batch_abc',
      cancelled: true,
      storeError,
    });
    assert.equal(lines.length, 1);
    assert.equal(lines[0].level, 'warn');
    assert.equal(lines[0].backendBatchId, 'batch_abc');
    assert.equal(lines[0].backend, 'openai-batch');
    assert.equal(lines[0].route, 'batches');
    assert.equal(lines[0].code, 'ETIMEDOUT');
    assert.ok(!JSON.stringify(lines).includes(KEY));
  });

  it('is an error naming its backend batch id and the cancel refusal when it runs on', () => {
    const { lines, logger } = logged();
    logUnkeptBatch(logger, {
      route: 'batches',
      backend: 'openai-batch',
      backendBatchId: 'batch_abc',
      cancelled: false,
      storeError,
      cancelError: new DataPlaneError(DataPlaneErrorCode.UpstreamError, `401 for ${KEY}`, {
        upstreamStatus: 401,
      }),
    });
    assert.equal(lines.length, 1);
    assert.equal(lines[0].level, 'error');
    assert.equal(lines[0].backendBatchId, 'batch_abc');
    assert.match(String(lines[0].msg), /cancel it by hand/);
    assert.equal(lines[0].cancelStatus, 401);
    assert.equal(lines[0].cancelCode, DataPlaneErrorCode.UpstreamError);
    assert.ok(!JSON.stringify(lines).includes(KEY));
  });
});
