// What the SDKs' automatic retries do with a budget refusal. @anthropic-ai/sdk sleeps out any
// Retry-After before retrying (a refusal until a 20-day budget resets held its caller for
// days) and openai-node retries twice on its own backoff when the wait is past a minute,
// neither of which can succeed: the gateway says `x-should-retry: false` there. A wait of
// a minute or less (a per-minute limit) stays the SDKs' to wait out.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import {
  startGatewayWithConfig,
  startSplitDataPlane,
  type AppProcess,
} from '@aigw/testing/processes';

const ROUTES = `kind: AIGatewayRoute
metadata: {name: twenty-days}
spec:
  backends:
  - {name: local, provider: local, model: spent-model}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: 0, period: 20d}
---
kind: AIGatewayRoute
metadata: {name: per-minute}
spec:
  backends:
  - {name: local-minute, provider: local, model: minute-model}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perMinute: {limit: 0}
`;

/** A fetch that counts the requests an SDK makes, retries included. */
function countingFetch(): { fetch: typeof fetch; attempts: () => number } {
  let attempts = 0;
  return {
    fetch: (input, init) => {
      attempts++;
      return fetch(input, init);
    },
    attempts: () => attempts,
  };
}

/** Ends a call the SDK would otherwise keep asleep for the refusal's whole Retry-After. */
const BOUND_MS = 30_000;

/** `client`'s refusal of a chat call to a model whose budget is spent, within BOUND_MS. */
async function anthropicRefusal(client: Anthropic, model: string): Promise<unknown> {
  return client.messages
    .create(
      { model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
      { signal: AbortSignal.timeout(BOUND_MS) },
    )
    .then(
      () => assert.fail('a spent budget was admitted'),
      (error: unknown) => error,
    );
}

/** The three processes of the split deployment, as they start. */
const splitApps: AppProcess[] = [];

async function startSplit(): Promise<AppProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-sdk-retry-split-'));
  writeFileSync(join(dir, 'config.yaml'), ROUTES);
  const { ingress } = await startSplitDataPlane(
    { AI_GATEWAY_CONFIG: join(dir, 'config.yaml') },
    dir,
    splitApps,
  );
  return ingress;
}

// Both started at once, not each in its suite's turn: the split's three processes take long.
const gatewayStarted = startGatewayWithConfig(ROUTES);
const ingressStarted = startSplit();
for (const started of [gatewayStarted, ingressStarted]) started.catch(() => undefined); // reported by the suite that awaits it
// At the file's end, as they were started: a suite's own hook would not run were its tests
// filtered out (--test-name-pattern), leaving its processes behind.
after(async () => {
  const gateway = await gatewayStarted.catch(() => undefined);
  await ingressStarted.catch(() => undefined); // a start still going would leave processes behind
  await Promise.all([gateway?.stop(), ...splitApps.map((app) => app.stop())]);
});

describe('all-in-one gateway: SDK retries of a budget refusal', () => {
  let gateway: AppProcess;

  before(async () => {
    gateway = await gatewayStarted;
  });

  it('the anthropic SDK raises a 20-day budget refusal at once instead of sleeping it out', async () => {
    const counted = countingFetch();
    const client = new Anthropic({
      baseURL: gateway.baseUrl,
      apiKey: 'unused',
      defaultHeaders: { 'x-user-id': 'alice' },
      fetch: counted.fetch,
    });
    const refusal = await anthropicRefusal(client, 'spent-model');
    assert.ok(refusal instanceof Anthropic.RateLimitError, String(refusal));
    assert.equal(refusal.type, 'rate_limit_error');
    assert.ok(Number(refusal.headers.get('retry-after')) > 60);
    assert.equal(refusal.headers.get('x-should-retry'), 'false');
    assert.equal(counted.attempts(), 1);
  });

  it('the openai SDK raises it without its two pointless retries', async () => {
    const counted = countingFetch();
    const client = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'unused',
      defaultHeaders: { 'x-user-id': 'bob' },
      fetch: counted.fetch,
    });
    const refusal = await client.chat.completions
      .create(
        { model: 'spent-model', messages: [{ role: 'user', content: 'hi' }], stream: true },
        { signal: AbortSignal.timeout(BOUND_MS) },
      )
      .then(
        () => assert.fail('a spent budget was admitted'),
        (error: unknown) => error,
      );
    assert.ok(refusal instanceof OpenAI.RateLimitError, String(refusal));
    assert.equal(refusal.code, 'budget_exceeded');
    assert.equal(counted.attempts(), 1);
  });

  it('leaves a refusal of a minute or less to the SDK to wait out', async () => {
    const response = await fetch(`${gateway.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'x-user-id': 'carol',
      },
      body: JSON.stringify({
        model: 'minute-model',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    assert.equal(response.status, 429);
    const retryAfter = Number(response.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(response.headers.get('x-should-retry'), null);
  });
});

describe('three-process deployment: SDK retries of a budget refusal', () => {
  let ingress: AppProcess;

  before(async () => {
    ingress = await ingressStarted;
  });

  it('the anthropic SDK raises the refusal at once there too', async () => {
    const counted = countingFetch();
    const client = new Anthropic({
      baseURL: ingress.baseUrl,
      apiKey: 'unused',
      defaultHeaders: { 'x-user-id': 'dave' },
      fetch: counted.fetch,
    });
    const refusal = await anthropicRefusal(client, 'spent-model');
    assert.ok(refusal instanceof Anthropic.RateLimitError, String(refusal));
    assert.equal(refusal.headers.get('x-should-retry'), 'false');
    assert.equal(counted.attempts(), 1);
  });
});
