import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayId, parseGatewayId } from './gateway-ids';

describe('gateway ids of files and batches', () => {
  const held = { route: 'main/route', backend: 'openai-east', providerId: 'file-abc123' };

  it('round-trips the route, backend and provider id, with OpenAI-like prefixes', () => {
    const file = gatewayId('file', held);
    assert.match(file, /^file-aigw_[A-Za-z0-9_-]+$/);
    assert.ok(!file.includes('file-abc123'), 'the provider id is not shown as is');
    assert.deepEqual(parseGatewayId('file', file), held);
    const batch = gatewayId('batch', { ...held, providerId: 'batch_xyz' });
    assert.match(batch, /^batch_aigw_/);
    assert.deepEqual(parseGatewayId('batch', batch), { ...held, providerId: 'batch_xyz' });
  });

  it('refuses ids of the other kind, provider ids and forged bodies', () => {
    const file = gatewayId('file', held);
    assert.equal(parseGatewayId('batch', file), undefined);
    assert.equal(parseGatewayId('file', 'file-abc123'), undefined);
    assert.equal(parseGatewayId('file', 'file-aigw_!!'), undefined);
    const notArray = 'file-aigw_' + Buffer.from('{"a":1}').toString('base64url');
    assert.equal(parseGatewayId('file', notArray), undefined);
    const empty = 'file-aigw_' + Buffer.from('["r","","x"]').toString('base64url');
    assert.equal(parseGatewayId('file', empty), undefined);
    assert.equal(parseGatewayId('file', 'file-aigw_' + 'A'.repeat(5000)), undefined);
  });
});
