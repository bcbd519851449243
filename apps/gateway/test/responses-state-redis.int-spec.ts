// Stored responses across two all-in-one gateway processes sharing one real Redis, as two
// ingress replicas of the split deployment would: a conversation started on one replica
// continues on the other, with the official openai client; each caller sees its own.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type Redis from 'ioredis';
import { createRedisClient } from '@aigw/infra';
import { startRedis, type RealService } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { previousNotFound } from './stored-state-gateway';

const ANSWER = 'Hello from the fake upstream.';

describe('stored responses across two replicas sharing Redis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-responses-redis-int-'));
  const upstream = new FakeOpenAiUpstream('plain');
  let redis: RealService;
  let client: Redis;
  let replicas: AppProcess[] = [];

  const clientOf = (replica: AppProcess, user: string) =>
    new OpenAI({
      baseURL: `${replica.baseUrl}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': user },
    });

  before(async () => {
    redis = await startRedis();
    client = createRedisClient(redis.url);
    await upstream.start();
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: responses-state}
spec:
  backends:
  - {name: plain, provider: vllm, baseUrl: '${upstream.baseUrl}', model: upstream-model, modelNameOverride: gpt-plain}
  userIdentification: {header: x-user-id}
`,
    );
    replicas = await Promise.all(
      ['a', 'b'].map((name) =>
        startApp('gateway', {
          AI_GATEWAY_CONFIG: config,
          AI_GATEWAY_DATA_DIR: join(dir, name),
          REDIS_URL: redis.url,
          AI_GATEWAY_RESPONSES_TTL_SECONDS: '600',
        }),
      ),
    );
  });
  after(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await upstream.stop();
    client.disconnect();
    await redis.stop();
  });

  it('continues on one replica a conversation stored by the other, for its caller only', async () => {
    const [a, b] = replicas as [AppProcess, AppProcess];
    upstream.reset();
    const first = await clientOf(a, 'alice').responses.create({
      model: 'gpt-plain',
      input: 'My name is Ann.',
    });
    const ttl = await client.pttl(`aigw:resp:v1:${first.id}`);
    assert.ok(ttl > 590_000 && ttl <= 600_000, `TTL from the env: ${ttl}`);

    const second = await clientOf(b, 'alice').responses.create({
      model: 'gpt-plain',
      input: 'What is my name?',
      previous_response_id: first.id,
    });
    assert.deepEqual(upstream.calls[1]?.body.messages, [
      { role: 'user', content: 'My name is Ann.' },
      { role: 'assistant', content: ANSWER },
      { role: 'user', content: 'What is my name?' },
    ]);
    assert.equal((await clientOf(a, 'alice').responses.retrieve(second.id)).id, second.id);

    const isNotFound = (error: unknown) => error instanceof OpenAI.NotFoundError;
    await assert.rejects(clientOf(b, 'bob').responses.retrieve(first.id), isNotFound);
    await assert.rejects(
      clientOf(a, 'bob').responses.create({
        model: 'gpt-plain',
        input: 'x',
        previous_response_id: second.id,
      }),
      previousNotFound,
    );

    await clientOf(b, 'alice').responses.delete(first.id);
    await assert.rejects(clientOf(a, 'alice').responses.retrieve(first.id), isNotFound);
    assert.equal(await client.exists(`aigw:resp:v1:${first.id}`), 0);
  });

  it('keeps a conversation in Redis: created on one replica, continued and listed on the other', async () => {
    const [a, b] = replicas as [AppProcess, AppProcess];
    upstream.reset();
    const conversation = await clientOf(a, 'alice').conversations.create({
      items: [{ role: 'user', content: 'My name is Ann.' }],
    });
    const ttl = await client.pttl(`aigw:conv:v2:{${conversation.id}}`);
    assert.ok(ttl > 590_000 && ttl <= 600_000, `TTL from the env: ${ttl}`);
    await clientOf(b, 'alice').responses.create({
      model: 'gpt-plain',
      input: 'Hello?',
      conversation: conversation.id,
    });
    await clientOf(a, 'alice').responses.create({
      model: 'gpt-plain',
      input: 'What is my name?',
      conversation: conversation.id,
    });
    assert.deepEqual(upstream.calls[1]?.body.messages, [
      { role: 'user', content: 'My name is Ann.' },
      { role: 'user', content: 'Hello?' },
      { role: 'assistant', content: ANSWER },
      { role: 'user', content: 'What is my name?' },
    ]);
    const items = await clientOf(b, 'alice').conversations.items.list(conversation.id, {
      order: 'asc',
    });
    assert.equal(items.data.length, 5);
    const isNotFound = (error: unknown) => error instanceof OpenAI.NotFoundError;
    await assert.rejects(clientOf(b, 'bob').conversations.retrieve(conversation.id), isNotFound);
    await clientOf(b, 'alice').conversations.delete(conversation.id);
    await assert.rejects(clientOf(a, 'alice').conversations.retrieve(conversation.id), isNotFound);
    assert.equal(await client.exists(`aigw:conv:v2:{${conversation.id}}:items`), 0);
  });
});
