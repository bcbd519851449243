import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import Fastify from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { AnalyticsExceptionFilter } from './analytics-exception.filter';

describe('the analytics API filter and the edge refusals', () => {
  it('answers a refusal of the edge (an unmet Expect) with its status, not as a store failure', async () => {
    const storeErrors: unknown[] = [];
    const filter = new AnalyticsExceptionFilter({ onStoreError: (e) => storeErrors.push(e) });
    const fastify = Fastify();
    fastify.get('/v1/analytics/usage', (request, reply) => {
      const refusal = new DataPlaneError(DataPlaneErrorCode.ExpectationFailed, 'no such Expect');
      filter.catch(refusal, new ExecutionContextHost([request, reply]));
    });
    try {
      const answer = await fastify.inject({ method: 'GET', url: '/v1/analytics/usage' });
      assert.equal(answer.statusCode, 417, answer.body);
      assert.deepEqual(answer.json(), { error: { type: 'http_error', message: 'no such Expect' } });
      assert.deepEqual(storeErrors, [], 'not logged as the store failing');
    } finally {
      await fastify.close();
    }
  });

  it('answers a transfer coding the edge does not implement with its 501, not as a store failure', async () => {
    const storeErrors: unknown[] = [];
    const filter = new AnalyticsExceptionFilter({ onStoreError: (e) => storeErrors.push(e) });
    const fastify = Fastify();
    fastify.post('/v1/analytics/usage', (request, reply) => {
      const refusal = new DataPlaneError(DataPlaneErrorCode.NotImplemented, 'no such coding');
      filter.catch(refusal, new ExecutionContextHost([request, reply]));
    });
    try {
      const answer = await fastify.inject({ method: 'POST', url: '/v1/analytics/usage' });
      assert.equal(answer.statusCode, 501, answer.body);
      assert.deepEqual(answer.json(), { error: { type: 'http_error', message: 'no such coding' } });
      assert.deepEqual(storeErrors, [], 'not logged as the store failing');
    } finally {
      await fastify.close();
    }
  });
});
