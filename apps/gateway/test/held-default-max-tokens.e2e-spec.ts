// AI_GATEWAY_DEFAULT_MAX_OUTPUT_TOKENS through the gateway: what budget admission holds for
// a request without max_tokens is what Claude (which requires a cap) is asked for, so it
// cannot write past its hold, in both deployment shapes (in the split one the value crosses
// two internal hops); an OpenAI-format backend is sent no cap, and an answer longer than the
// hold that takes the caller past a limit is counted as overshoot. A request that asks for
// reasoning without max_tokens is held, and Claude asked for, at least 16384.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeAnthropicUpstream, FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { metricSum } from '@aigw/testing';
import { startApp, startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

const HELD = 1000;
/** A day's tokens per user: room for one call held at HELD, not for a 2000-token answer. */
const LIMIT = 1500;

describe('all-in-one gateway: the default output cap is the one admission held', () => {
  const anthropic = new FakeAnthropicUpstream();
  const openai = new FakeOpenAiUpstream();
  let gateway: AppProcess;

  before(async () => {
    await Promise.all([anthropic.start(), openai.start()]);
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: held-default}
spec:
  backends:
  - name: claude
    provider: anthropic
    baseUrl: ${anthropic.baseUrl}
    model: claude-sonnet-4-5
    modelNameOverride: claude
    auth:
      apiKeyRef: {name: anthropic-key}
  - {name: gpt, provider: openai-compatible, baseUrl: "${openai.baseUrl}", model: gpt-4o-mini, modelNameOverride: gpt}
  tokenBudget: {perUser: {limit: ${LIMIT}, period: 1d}}
`,
      {
        AI_GATEWAY_DEFAULT_MAX_OUTPUT_TOKENS: String(HELD),
        AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
        AI_GATEWAY_MISSING_SECRETS: 'warn',
      },
    );
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([anthropic.stop(), openai.stop()]);
  });

  const chat = (user: string, body: Record<string, unknown>) =>
    fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Tell me a story' }], ...body }),
    });
  const metrics = async () => (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();

  it('asks Claude for the held default when the client set no max_tokens', async () => {
    const response = await chat('claude-user', { model: 'claude' });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(anthropic.calls.at(-1)?.body.max_tokens, HELD);
    // The client's own max_tokens goes as given.
    const own = await chat('claude-user-2', { model: 'claude', max_tokens: 300 });
    assert.equal(own.status, 200);
    assert.equal(anthropic.calls.at(-1)?.body.max_tokens, 300);
  });

  it('sends an OpenAI-format backend no cap, and counts an answer past the limit as overshoot', async () => {
    openai.reportUsage({ prompt_tokens: 12, completion_tokens: 2000, total_tokens: 2012 });
    const response = await chat('gpt-user', { model: 'gpt' });
    assert.equal(response.status, 200, await response.clone().text());
    const sent = openai.calls.at(-1)?.body ?? {};
    assert.equal(sent.max_tokens, undefined);
    assert.equal(sent.max_completion_tokens, undefined);
    // Settled off the request path: the 2012 tokens spent against a limit of 1500.
    let overshoot = 0;
    for (let i = 0; i < 100 && overshoot === 0; i++) {
      overshoot = metricSum(await metrics(), 'ai_gateway_reservation_overshoot_tokens_total', {
        limit: 'tokenBudget.perUser',
      });
      if (overshoot === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(overshoot, 2012 - LIMIT);
  });
});

describe('all-in-one gateway: a request that asks for reasoning is held, and sent, its room', () => {
  const anthropic = new FakeAnthropicUpstream();
  const openai = new FakeOpenAiUpstream();
  /** Room for a few calls held at the reasoning default, per user and day. */
  const ROOMY = 100_000;
  let gateway: AppProcess;

  before(async () => {
    await Promise.all([anthropic.start(), openai.start()]);
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: held-reasoning}
spec:
  backends:
  - name: claude
    provider: anthropic
    baseUrl: ${anthropic.baseUrl}
    model: claude-opus-4-7
    modelNameOverride: claude
    auth:
      apiKeyRef: {name: anthropic-key}
  - {name: o, provider: openai-compatible, baseUrl: "${openai.baseUrl}", model: o4-mini, modelNameOverride: o}
  tokenBudget: {perUser: {limit: ${ROOMY}, period: 1d}}
`,
      {
        AI_GATEWAY_DEFAULT_MAX_OUTPUT_TOKENS: String(HELD),
        AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
        AI_GATEWAY_MISSING_SECRETS: 'warn',
      },
    );
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([anthropic.stop(), openai.stop()]);
  });

  /** A first call of `user` (so nothing else is held for it) and the tokens it was held. */
  const heldFor = async (user: string, body: Record<string, unknown>) => {
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Think it over' }], ...body }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const remaining = response.headers.get('x-ratelimit-remaining-tokens');
    assert.ok(remaining !== null, 'the budget headers');
    return ROOMY - Number(remaining);
  };

  it('asks Claude for 16384 for a reasoning_effort without max_tokens, the amount admission held', async () => {
    // The same prompt each time: the holds differ by their output alone.
    const plain = await heldFor('plain-user', { model: 'claude' });
    assert.equal(anthropic.calls.at(-1)?.body.max_tokens, HELD);
    const prompt = plain - HELD;
    assert.ok(prompt > 0, 'the prompt is held too');

    const reasoning = await heldFor('reasoning-user', {
      model: 'claude',
      reasoning_effort: 'high',
    });
    const sent = anthropic.calls.at(-1)?.body ?? {};
    assert.deepEqual(sent.output_config, { effort: 'high' });
    assert.equal(sent.max_tokens, 16_384);
    assert.equal(reasoning, prompt + 16_384);

    // The client's own max_tokens wins, in the hold and upstream alike.
    const bounded = await heldFor('bounded-user', {
      model: 'claude',
      reasoning_effort: 'high',
      max_tokens: 2000,
    });
    assert.equal(anthropic.calls.at(-1)?.body.max_tokens, 2000);
    assert.equal(bounded, prompt + 2000);
  });

  it('holds an OpenAI reasoning model the same room, sending it no cap', async () => {
    const plain = await heldFor('o-plain-user', { model: 'o' });
    const reasoning = await heldFor('o-reasoning-user', { model: 'o', reasoning_effort: 'high' });
    const sent = openai.calls.at(-1)?.body ?? {};
    assert.equal(sent.reasoning_effort, 'high');
    assert.equal(sent.max_tokens, undefined);
    assert.equal(sent.max_completion_tokens, undefined);
    assert.equal(reasoning - plain, 16_384 - HELD);
  });
});

describe('ingress, router and provider-adapter: the held default crosses both hops', () => {
  const anthropic = new FakeAnthropicUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-held-default-split-'));
  const started: AppProcess[] = [];
  let ingress: AppProcess;

  before(async () => {
    await anthropic.start();
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: held-default}
spec:
  backends:
  - name: claude
    provider: anthropic
    baseUrl: ${anthropic.baseUrl}
    model: claude-sonnet-4-5
    modelNameOverride: claude
    auth:
      apiKeyRef: {name: anthropic-key}
`,
    );
    const adapter = await startApp('provider-adapter', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'adapter'),
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test',
    });
    started.push(adapter);
    const router = await startApp('router', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'router'),
      PROVIDER_ADAPTER_URL: adapter.baseUrl,
    });
    started.push(router);
    // Admission runs in the ingress: the setting is its own.
    ingress = await startApp('ingress', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'ingress'),
      ROUTER_URL: router.baseUrl,
      AI_GATEWAY_DEFAULT_MAX_OUTPUT_TOKENS: String(HELD),
    });
    started.push(ingress);
  });

  after(async () => {
    await Promise.all(started.map((app) => app.stop()));
    await anthropic.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks Claude for the held default when the client set no max_tokens', async () => {
    const response = await fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(anthropic.calls.at(-1)?.body.max_tokens, HELD);
  });

  it('asks Claude for the reasoning default for a reasoning_effort without max_tokens', async () => {
    const response = await fetch(`${ingress.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude',
        reasoning_effort: 'low',
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const sent = anthropic.calls.at(-1)?.body ?? {};
    assert.deepEqual(sent.thinking, { type: 'enabled', budget_tokens: 1024 });
    assert.equal(sent.max_tokens, 16_384);
  });
});
