import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { registerUnservedFilesAndBatches } from './unserved-routes';

describe('an edge built without the Files and Batch APIs', () => {
  it("answers the Message Batches API's calls in Anthropic's shape, saying it is not served", async () => {
    const app = Fastify();
    registerUnservedFilesAndBatches(app, '/v1');
    try {
      for (const [method, url] of [
        ['POST', '/v1/messages/batches'],
        ['GET', '/v1/messages/batches'],
        ['GET', '/v1/messages/batches/msgbatch_1'],
        ['DELETE', '/v1/messages/batches/msgbatch_1'],
        ['POST', '/v1/messages/batches/msgbatch_1/cancel'],
        ['GET', '/v1/messages/batches/msgbatch_1/results'],
      ] as const) {
        const answer = await app.inject({ method, url });
        assert.equal(answer.statusCode, 404, `${method} ${url}`);
        const body = answer.json();
        assert.equal(body.type, 'error', `${method} ${url}`);
        assert.equal(body.error.type, 'not_found_error');
        assert.match(body.error.message, /does not serve the Message Batches API/);
      }
      // OpenAI's paths keep OpenAI's shape.
      const openAi = (await app.inject({ method: 'GET', url: '/v1/batches' })).json();
      assert.equal(typeof openAi.error.message, 'string');
      assert.equal(openAi.type, undefined);
    } finally {
      await app.close();
    }
  });
});
