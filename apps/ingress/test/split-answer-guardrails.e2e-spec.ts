// Answer guardrails in the split deployment (ingress, router and provider-adapter as three
// processes): security.responseValidation lives at the ingress, so a streamed answer that
// crossed both internal hops is checked there, a match split across chunks included.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

describe('split deployment: answer guardrails at the ingress', () => {
  const upstream = new FakeOpenAiUpstream('split-answers');
  const dir = mkdtempSync(join(tmpdir(), 'aigw-split-answers-'));
  let services: AppProcess[] = [];
  let client: OpenAI;

  before(async () => {
    await upstream.start();
    const path = join(dir, 'split.yaml');
    writeFileSync(
      path,
      `kind: AIGatewayRoute
metadata: {name: split-answers}
spec:
  backends:
  - {name: chat, provider: vllm, baseUrl: "${upstream.baseUrl}", model: upstream-chat, modelNameOverride: guarded}
  security:
    responseValidation:
      redact: {detectors: [email, {name: creditCard, mode: block}]}
`,
    );
    const shared = { AI_GATEWAY_CONFIG: path };
    const adapter = await startApp('provider-adapter', {
      ...shared,
      AI_GATEWAY_DATA_DIR: join(dir, 'adapter'),
    });
    const router = await startApp('router', {
      ...shared,
      AI_GATEWAY_DATA_DIR: join(dir, 'router'),
      PROVIDER_ADAPTER_URL: adapter.baseUrl,
    });
    const ingress = await startApp('ingress', {
      ...shared,
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
      ROUTER_URL: router.baseUrl,
    });
    services = [ingress, router, adapter];
    client = new OpenAI({ baseURL: `${ingress.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
    await upstream.stop();
  });

  const streamed = async () => {
    const stream = await client.chat.completions.create({
      model: 'guarded',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishes: string[] = [];
    let usage = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      usage ||= !!chunk.usage;
    }
    return { text, finishes, usage };
  };

  it('a stream across both hops: a split email masked, a split card withheld with content_filter', async () => {
    upstream.answerWith(['Write to jane.d', 'oe@example.com', ' today.']);
    assert.deepEqual(await streamed(), {
      text: 'Write to [REDACTED:email] today.',
      finishes: ['stop'],
      usage: true,
    });
    upstream.answerWith(['Card: 4111 11', '11 1111 1111', ' exp 12/29']);
    assert.deepEqual(await streamed(), {
      text: 'Card: ',
      finishes: ['content_filter'],
      usage: true,
    });
  });
});
