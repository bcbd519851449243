// The owner key of stored objects (responses, conversations, files, batches): the caller's
// budget key, so where a configuration identifies users more than one way one id named two
// ways is two owners; where it identifies them one way, the user key as owners always were.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import { callerOwnerKey, type RouterPort } from '@aigw/contracts/data-plane';
import { IngressPipeline } from '../ingress-pipeline';

const route = (name: string, model: string, header: string) => `kind: AIGatewayRoute
metadata: {name: ${name}}
spec:
  backends: [{name: ${name}-local, provider: local, model: ${model}}]
  userIdentification: {header: ${header}}
`;

function load(yaml: string): GatewayConfig {
  const result = parseGatewayConfig(yaml, { env: {} });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const router: RouterPort = {
  route: () => Promise.reject(new Error('not used')),
  listModels: () => [],
};

const pipelineOn = (config: GatewayConfig) => new IngressPipeline(() => config, router, {});

describe('callerOwnerKey', () => {
  it('is the budget key where there is one, else the user key', () => {
    assert.equal(callerOwnerKey({ userKey: 'alice' }), 'alice');
    assert.equal(
      callerOwnerKey({ userKey: 'alice', budgetKey: 'jwt:corp:sub:alice', tier: 'pro' }),
      'jwt:corp:sub:alice',
    );
  });
});

describe('IngressPipeline owner keys', () => {
  it('are the bare user key where users are identified one way (stored records stay readable)', async () => {
    const pipeline = pipelineOn(load(route('chat', 'chat-mini', 'x-user-id')));
    assert.equal(pipeline.ownerKeyFor('chat-mini', { 'x-user-id': 'alice' }), 'alice');
    assert.deepEqual(await pipeline.ownerKeysWithoutModel({ 'x-user-id': 'alice' }), ['alice']);
    assert.equal(pipeline.ownerKeyFor('chat-mini', {}), 'anonymous');
  });

  it('carry the identification where users are identified more than one way', async () => {
    const config = load(
      `${route('chat', 'chat-mini', 'x-user-id')}---\n${route('other', 'other-mini', 'x-other-id')}`,
    );
    const pipeline = pipelineOn(config);
    const headers = { 'x-user-id': 'alice', 'x-other-id': 'alice' };
    assert.equal(pipeline.ownerKeyFor('chat-mini', headers), 'header:x-user-id:alice');
    assert.equal(pipeline.ownerKeyFor('other-mini', headers), 'header:x-other-id:alice');
    // For objects naming no model (conversations, lists of files): each route's, the first first.
    assert.deepEqual(await pipeline.ownerKeysWithoutModel(headers), [
      'header:x-user-id:alice',
      'header:x-other-id:alice',
    ]);
    // What a request's caller stores is what a later look compares it to.
    const prepared = pipeline.prepare(
      'chat',
      { model: 'chat-mini', messages: [{ role: 'user', content: 'hi' }] },
      headers,
      'r1',
    );
    assert.ok(!(prepared instanceof Promise));
    assert.equal(prepared.caller.userKey, 'alice');
    assert.equal(callerOwnerKey(prepared.caller), pipeline.ownerKeyFor('chat-mini', headers));
    assert.equal(pipeline.ownerKeyFor('no-such-model', headers), undefined);
  });
});
