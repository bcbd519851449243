import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WIRE_VERSION, WIRE_VERSION_HEADER } from '@aigw/contracts/data-plane';
import { createWireServer } from './wire-server';

describe('createWireServer', () => {
  it('names an unknown wire route by its path alone, never its query', async () => {
    const { fastify } = createWireServer({ maxBodyBytes: 1024 });
    try {
      const response = await fastify.inject({
        method: 'GET',
        url: '/wire/nothing?key=secret-key-value',
        headers: { [WIRE_VERSION_HEADER]: WIRE_VERSION },
      });
      assert.equal(response.statusCode, 404);
      assert.match(response.body, /no wire route GET \/wire\/nothing/);
      assert.ok(!response.body.includes('secret-key-value'), response.body);
    } finally {
      await fastify.close();
    }
  });
});
