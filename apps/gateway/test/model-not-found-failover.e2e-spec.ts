// A backend that answers a model call with 404 lacks the model or deployment its config
// names: the route fails over to the next backend under the `error` trigger (the router's
// 404 rule, libs/router/src/domain/model-call-failure.ts). A held object's 404 (a file at
// the backend that holds it) stays the client's 404, and no other backend is asked.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import {
  FAKE_BATCH_MODEL,
  FakeBatchBackend,
  FakeOpenAiUpstream,
} from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { userClient } from './batch-budget-calls';

const MODEL = 'gpt-shared';

describe('a 404 from a backend: model calls fail over, held objects do not', () => {
  // Holds files and batches, and has no chat endpoint: its chat calls are answered 404.
  const holder = new FakeBatchBackend();
  const spare = new FakeOpenAiUpstream();
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await Promise.all([holder.start(), spare.start()]);
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: not-found-failover}
spec:
  backends:
  - {name: holder, priority: 0, provider: openai, baseUrl: "${holder.baseUrl}", model: ${FAKE_BATCH_MODEL}, modelNameOverride: ${MODEL}, auth: {apiKeyRef: {name: openai-key}}}
  - {name: spare, priority: 1, provider: openai-compatible, baseUrl: "${spare.baseUrl}", model: gpt-4o-mini, modelNameOverride: ${MODEL}}
  failover: {on: [error]}
`,
      { AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-holder' },
    );
    client = userClient(gateway.baseUrl, 'alice', MODEL);
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([holder.stop(), spare.stop()]);
  });

  it('fails a chat call over to the next backend when the first answers 404, plain and streamed', async () => {
    const plain = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(plain.model, MODEL);
    assert.ok(plain.choices[0].message.content);
    const stream = await client.chat.completions.create({
      model: MODEL,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.ok(text.length > 0);
    const chatAtHolder = holder.calls.filter((call) => call.path === '/v1/chat/completions');
    assert.equal(chatAtHolder.length, 2, 'the holder was asked first, each time');
    assert.equal(spare.calls.length, 2, 'the spare served both');
  });

  it("answers a file gone at the backend that holds it with the client's 404, asking no other", async () => {
    const file = await client.files.create({
      file: await toFile(Buffer.from('{"a":1}\n'), 'notes.jsonl'),
      purpose: 'user_data',
    });
    assert.equal((await client.files.retrieve(file.id)).id, file.id);
    holder.files.clear();
    const spareCalls = spare.calls.length;
    await assert.rejects(client.files.retrieve(file.id), (error: unknown) => {
      assert.ok(error instanceof OpenAI.NotFoundError, String(error));
      return true;
    });
    assert.equal(spare.calls.length, spareCalls, 'the spare backend was not asked');
  });
});
