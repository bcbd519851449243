import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { estimatePromptTokensUpperBound } from '@aigw/contracts/data-plane';
import { eventually, metricSum, until } from '@aigw/testing';
import { answerText, chat, FULL_ANSWER, reuseConfig } from './reuse-helpers';

// The response cache and request deduplication on the all-in-one gateway, embedded mode
// (no Redis: the cache in memory, deduplication in process).

const dir = mkdtempSync(join(tmpdir(), 'aigw-reuse-e2e-'));

const settle = () => new Promise((resolve) => setTimeout(resolve, 600));

describe('response cache and deduplication on the all-in-one gateway (embedded)', () => {
  const cachedUpstream = new FakeOpenAiUpstream('cached');
  const dedupUpstream = new FakeOpenAiUpstream('deduped');
  const dataDir = join(dir, 'data');
  let gateway: AppProcess;

  function events(topic: string, user: string): Record<string, unknown>[] {
    const db = new DatabaseSync(join(dataDir, 'events.db'), { readOnly: true });
    try {
      const rows = db.prepare('SELECT value FROM events WHERE topic = ?').all(topic) as {
        value: string;
      }[];
      return rows
        .map((row) => JSON.parse(row.value) as Record<string, unknown>)
        .filter((event) => event.userId === user);
    } finally {
      db.close();
    }
  }
  // `users`' events on `topic`, once at least `count` are in the log (they are written off
  // the request path).
  const eventsOnceThere = (topic: string, users: readonly string[], count: number) =>
    eventually(`${count} ${topic} events`, () => {
      const found = users.flatMap((user) => events(topic, user));
      return found.length >= count ? found : undefined;
    });
  const metrics = async () => (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();

  before(async () => {
    await Promise.all([cachedUpstream.start(), dedupUpstream.start()]);
    const config = join(dir, 'reuse.yaml');
    writeFileSync(config, reuseConfig(cachedUpstream, dedupUpstream));
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: dataDir,
    });
  });
  after(async () => {
    await gateway.stop();
    await Promise.all([cachedUpstream.stop(), dedupUpstream.stop()]);
  });

  it('answers a repeated prompt from the cache with no upstream call: plain and streaming', async () => {
    const user = `cache-${randomUUID()}`;
    const prompt = `What is the cache? ${randomUUID()}`;
    for (const stream of [false, true]) {
      const before = cachedUpstream.calls.length;
      const first = await chat(gateway.baseUrl, { model: 'cached-model', prompt, stream, user });
      assert.equal(first.headers.get('x-ai-gateway-cache'), 'miss');
      assert.equal(await answerText(first), FULL_ANSWER);
      await settle(); // stored once it completed
      const second = await chat(gateway.baseUrl, { model: 'cached-model', prompt, stream, user });
      assert.equal(second.headers.get('x-ai-gateway-cache'), 'hit');
      if (stream) assert.match(second.headers.get('content-type') ?? '', /text\/event-stream/);
      assert.equal(await answerText(second), FULL_ANSWER);
      assert.equal(cachedUpstream.calls.length, before + 1, 'the hit made no upstream call');
    }
    // Another temperature is another answer.
    const warmer = await chat(gateway.baseUrl, {
      model: 'cached-model',
      prompt,
      user,
      temperature: 0.9,
    });
    assert.equal(warmer.headers.get('x-ai-gateway-cache'), 'miss');
    await answerText(warmer);

    const usage = await eventsOnceThere('gateway.usage.recorded.v1', [user], 5);
    const completed = await eventsOnceThere('gateway.request.completed.v1', [user], 5);
    const text = await metrics();
    assert.ok(metricSum(text, 'ai_gateway_cache_hits_total', { model: 'cached-model' }) >= 2);
    assert.ok(metricSum(text, 'ai_gateway_cache_misses_total', { model: 'cached-model' }) >= 3);
    // Embedded: the answers are in this process's memory, and the gauge says how much.
    assert.ok(metricSum(text, 'ai_gateway_cache_memory_bytes') > 0);
    const hits = usage.filter((event) => event.cacheHit === true);
    assert.equal(hits.length, 2, 'one usage event per hit, marked cached');
    for (const hit of hits) {
      assert.equal(hit.inputTokens, 0, 'a hit bills nothing by default');
      assert.equal(hit.outputTokens, 0);
      assert.equal(hit.costDollars, 0);
      assert.equal(hit.backend, 'cached-upstream');
    }
    assert.equal(usage.filter((event) => event.cacheHit === false).length, 3);
    assert.equal(completed.filter((event) => event.cached === true).length, 2);
  });

  it('reuses an answer across prompt_cache_key, prompt_cache_retention and safety_identifier, on chat and responses', async () => {
    const hints = (n: number) => ({
      prompt_cache_key: `session-${n}-${randomUUID()}`,
      prompt_cache_retention: n === 1 ? 'in_memory' : '24h',
      safety_identifier: `user-hash-${n}`,
    });
    const post = (path: string, body: Record<string, unknown>) =>
      fetch(`${gateway.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': 'reuse-hints' },
        body: JSON.stringify(body),
      });
    // Two prompts: a Responses request is keyed as the chat it becomes, so one prompt would share.
    const chatPrompt = `Hints ${randomUUID()}`;
    const chatBody = { model: 'cached-model', messages: [{ role: 'user', content: chatPrompt }] };
    const responsesBody = { model: 'cached-model', input: `Hints ${randomUUID()}`, store: false };
    for (const [path, body] of [
      ['/v1/chat/completions', chatBody],
      ['/v1/responses', responsesBody],
    ] as const) {
      const before = cachedUpstream.calls.length;
      const first = await post(path, { ...body, ...hints(1) });
      assert.equal(first.status, 200, await first.clone().text());
      assert.equal(first.headers.get('x-ai-gateway-cache'), 'miss', path);
      await first.text();
      await settle();
      const second = await post(path, { ...body, ...hints(2) });
      assert.equal(second.status, 200);
      assert.equal(second.headers.get('x-ai-gateway-cache'), 'hit', path);
      await second.text();
      assert.equal(cachedUpstream.calls.length, before + 1, `${path}: the hit made no call`);
    }
  });

  it('honours Cache-Control no-store and no-cache from the client', async () => {
    const prompt = `Control ${randomUUID()}`;
    const calls = () => cachedUpstream.calls.length;
    const start = calls();
    const noStore = { 'cache-control': 'no-store' };
    await answerText(
      await chat(gateway.baseUrl, { model: 'cached-model', prompt, headers: noStore }),
    );
    await settle();
    const afterNoStore = await chat(gateway.baseUrl, {
      model: 'cached-model',
      prompt,
      headers: { 'cache-control': 'no-cache' },
    });
    assert.equal(afterNoStore.headers.get('x-ai-gateway-cache'), 'miss');
    await answerText(afterNoStore);
    await settle();
    // no-cache stored it: a plain request now hits.
    const hit = await chat(gateway.baseUrl, { model: 'cached-model', prompt });
    assert.equal(hit.headers.get('x-ai-gateway-cache'), 'hit');
    await answerText(hit);
    assert.equal(calls(), start + 2);
  });

  it('answers Cache-Control only-if-cached from the cache or with a 504, never calling the backend', async () => {
    const prompt = `Only cached ${randomUUID()}`;
    const onlyIfCached = { 'cache-control': 'only-if-cached' };
    const cachedCalls = cachedUpstream.calls.length;
    const dedupCalls = dedupUpstream.calls.length;
    // Nothing stored yet: RFC 9111's 504, in the edge's own error format.
    const miss = await chat(gateway.baseUrl, {
      model: 'cached-model',
      prompt,
      headers: onlyIfCached,
    });
    assert.equal(miss.status, 504);
    assert.equal(miss.headers.get('x-should-retry'), 'false');
    const body = (await miss.json()) as { error: { type: string; code: string } };
    assert.equal(body.error.code, 'not_cached');
    const messages = await fetch(`${gateway.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...onlyIfCached },
      body: JSON.stringify({
        model: 'cached-model',
        max_tokens: 16,
        messages: [{ role: 'user', content: prompt }],
      }),
    });
    assert.equal(messages.status, 504);
    assert.deepEqual(((await messages.json()) as { type: string }).type, 'error');
    // A route without a cache has no stored answer to give: the same 504, its call not joined.
    for (const stream of [false, true]) {
      const uncached = await chat(gateway.baseUrl, {
        model: 'dedup-model',
        prompt,
        stream,
        headers: onlyIfCached,
      });
      assert.equal(uncached.status, 504);
      await uncached.text();
    }
    assert.equal(cachedUpstream.calls.length, cachedCalls, 'no call for a miss');
    assert.equal(dedupUpstream.calls.length, dedupCalls, 'no call on a route without a cache');
    // Once stored, the stored answer.
    await answerText(await chat(gateway.baseUrl, { model: 'cached-model', prompt }));
    await settle();
    const hit = await chat(gateway.baseUrl, {
      model: 'cached-model',
      prompt,
      headers: onlyIfCached,
    });
    assert.equal(hit.status, 200);
    assert.equal(hit.headers.get('x-ai-gateway-cache'), 'hit');
    assert.equal(await answerText(hit), FULL_ANSWER);
    assert.equal(cachedUpstream.calls.length, cachedCalls + 1);
  });

  it('never caches a truncated stream or an upstream error', async () => {
    const prompt = `Broken ${randomUUID()}`;
    cachedUpstream.next({ kind: 'break-stream', afterChunks: 2 });
    const broken = await chat(gateway.baseUrl, { model: 'cached-model', prompt, stream: true });
    assert.match(await broken.text(), /error/);
    cachedUpstream.next({ kind: 'status', status: 500 });
    const failed = await chat(gateway.baseUrl, { model: 'cached-model', prompt });
    assert.ok(failed.status >= 500);
    await failed.text();
    await settle();
    const again = await chat(gateway.baseUrl, { model: 'cached-model', prompt, stream: true });
    assert.equal(again.headers.get('x-ai-gateway-cache'), 'miss');
    assert.equal(await answerText(again), FULL_ANSWER);
  });

  it('passes on a backend’s own error code and param with caching or deduplication on', async () => {
    const refusal = {
      kind: 'status' as const,
      status: 400,
      body: {
        error: {
          message: "This model's maximum context length is 8192 tokens.",
          type: 'invalid_request_error',
          param: 'messages',
          code: 'context_length_exceeded',
        },
      },
    };
    for (const [model, upstream] of [
      ['cached-model', cachedUpstream],
      ['dedup-model', dedupUpstream],
    ] as const) {
      for (const stream of [false, true]) {
        upstream.next(refusal);
        const prompt = `Too long ${randomUUID()}`;
        const response = await chat(gateway.baseUrl, { model, prompt, stream });
        const body = (await response.json()) as { error: Record<string, unknown> };
        assert.equal(response.status, 400, `${model} stream=${stream}`);
        assert.deepEqual(
          { code: body.error.code, param: body.error.param, type: body.error.type },
          { code: 'context_length_exceeded', param: 'messages', type: 'invalid_request_error' },
          `${model} stream=${stream}`,
        );
      }
    }
  });

  it('serves Anthropic Messages requests from the same cache, as messages and as events', async () => {
    const prompt = `Anthropic ${randomUUID()}`;
    const post = (stream: boolean) =>
      fetch(`${gateway.baseUrl}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'cached-model',
          max_tokens: 100,
          stream,
          messages: [{ role: 'user', content: prompt }],
        }),
      });
    for (const stream of [false, true]) {
      const start = cachedUpstream.calls.length;
      const first = await post(stream);
      assert.equal(first.headers.get('x-ai-gateway-cache'), 'miss');
      const firstBody = await first.text();
      await settle();
      const second = await post(stream);
      assert.equal(second.headers.get('x-ai-gateway-cache'), 'hit');
      const secondBody = await second.text();
      assert.equal(second.status, 200);
      if (stream) {
        assert.match(secondBody, /event: message_start/);
        assert.match(secondBody, /event: message_stop/);
        assert.ok(secondBody.includes('fake'), secondBody);
      } else {
        const message = JSON.parse(secondBody) as { type: string; content: { text: string }[] };
        assert.equal(message.type, 'message');
        assert.equal(message.content[0].text, FULL_ANSWER);
        assert.equal(JSON.parse(firstBody).content[0].text, FULL_ANSWER);
      }
      assert.equal(cachedUpstream.calls.length, start + 1);
    }
  });

  it('keeps answers to requests with another anthropic-beta apart: the header reaches the backend', async () => {
    const prompt = `Beta ${randomUUID()}`;
    const post = (beta?: string) =>
      chat(gateway.baseUrl, {
        model: 'cached-model',
        prompt,
        ...(beta ? { headers: { 'anthropic-beta': beta } } : {}),
      });
    const start = cachedUpstream.calls.length;
    const plain = await post();
    assert.equal(plain.headers.get('x-ai-gateway-cache'), 'miss');
    await answerText(plain);
    await settle();
    const beta = await post('interleaved-thinking-2025-05-14');
    assert.equal(beta.headers.get('x-ai-gateway-cache'), 'miss', 'not the answer without it');
    await answerText(beta);
    assert.equal(
      cachedUpstream.calls.at(-1)?.headers['anthropic-beta'],
      'interleaved-thinking-2025-05-14',
    );
    await settle();
    const betaAgain = await post('interleaved-thinking-2025-05-14');
    assert.equal(betaAgain.headers.get('x-ai-gateway-cache'), 'hit');
    await answerText(betaAgain);
    assert.equal(cachedUpstream.calls.length, start + 2);
  });

  for (const stream of [false, true]) {
    it(`makes one upstream call for 5 concurrent identical requests (${stream ? 'streaming' : 'plain'}); a late joiner gets the whole answer`, async () => {
      dedupUpstream.reset();
      dedupUpstream.always({ kind: 'delay', ms: 1_500 });
      const prompt = `Everyone asks this ${randomUUID()}`;
      const users = ['u1', 'u2', 'u3', 'u4', 'u5'].map((u) => `${u}-${randomUUID()}`);
      const responses = await Promise.all(
        users.map((user) => chat(gateway.baseUrl, { model: 'dedup-model', prompt, stream, user })),
      );
      const roles = responses.map((r) => r.headers.get('x-ai-gateway-dedup')).sort();
      assert.deepEqual(roles, ['follower', 'follower', 'follower', 'follower', 'leader']);
      for (const response of responses) assert.equal(await answerText(response), FULL_ANSWER);
      const late = await chat(gateway.baseUrl, {
        model: 'dedup-model',
        prompt,
        stream,
        user: users[0],
      });
      assert.equal(late.headers.get('x-ai-gateway-dedup'), 'follower');
      assert.equal(await answerText(late), FULL_ANSWER);
      assert.equal(dedupUpstream.calls.length, 1, 'exactly one upstream call');
      dedupUpstream.reset();

      const usage = await eventsOnceThere('gateway.usage.recorded.v1', users, 6);
      // The leader pays for the call; followers are reused answers, billed by the rule.
      assert.equal(usage.filter((event) => event.cacheHit === false).length, 1);
      assert.equal(usage.filter((event) => event.cacheHit === true).length, 5);
    });
  }

  it('keeps the shared call going when the leader disconnects', async () => {
    dedupUpstream.reset();
    dedupUpstream.always({ kind: 'delay', ms: 1_500 });
    const prompt = `Leader leaves ${randomUUID()}`;
    const leaving = new AbortController();
    const leader = chat(gateway.baseUrl, {
      model: 'dedup-model',
      prompt,
      stream: true,
      signal: leaving.signal,
    }).catch(() => undefined);
    while (dedupUpstream.calls.length === 0) await new Promise((r) => setTimeout(r, 20));
    const follower = chat(gateway.baseUrl, { model: 'dedup-model', prompt, stream: true });
    await new Promise((r) => setTimeout(r, 100));
    leaving.abort(); // the leader's client hangs up while the upstream call is still waiting
    await leader;
    const response = await follower;
    assert.equal(response.headers.get('x-ai-gateway-dedup'), 'follower');
    assert.equal(await answerText(response), FULL_ANSWER);
    assert.equal(dedupUpstream.calls.length, 1);
    dedupUpstream.reset();
  });

  for (const stream of [false, true]) {
    it(`records a follower whose client left before the shared answer as cancelled, not answered (${stream ? 'streaming' : 'plain'})`, async () => {
      dedupUpstream.reset();
      dedupUpstream.always({ kind: 'delay', ms: 1_000 });
      const prompt = `Follower leaves ${randomUUID()}`;
      const [leaderUser, followerUser] = [`leader-${randomUUID()}`, `follower-${randomUUID()}`];
      const leader = chat(gateway.baseUrl, {
        model: 'dedup-model',
        prompt,
        stream,
        user: leaderUser,
      });
      while (dedupUpstream.calls.length === 0) await new Promise((r) => setTimeout(r, 20));
      const leaving = new AbortController();
      const follower = chat(gateway.baseUrl, {
        model: 'dedup-model',
        prompt,
        stream,
        user: followerUser,
        signal: leaving.signal,
      }).catch(() => undefined);
      // Both calls are in the gateway before the follower's client leaves.
      await until(
        'the follower reaches the gateway',
        async () =>
          metricSum(await metrics(), 'ai_gateway_requests_in_flight', {
            route: 'chat.completions',
          }) === 2,
      );
      leaving.abort(); // gone while the shared call is still waiting on the upstream
      await follower;
      assert.equal(await answerText(await leader), FULL_ANSWER);
      dedupUpstream.reset();

      const completed = await eventsOnceThere('gateway.request.completed.v1', [followerUser], 1);
      await eventsOnceThere('gateway.request.completed.v1', [leaderUser], 1);
      assert.deepEqual(
        completed.map((event) => event.status),
        ['clientCancelled'],
        'the answer it never got is not recorded as delivered',
      );
      assert.equal(completed[0]?.errorCode, undefined);
      assert.deepEqual(events('gateway.usage.recorded.v1', followerUser), []);
      assert.deepEqual(
        events('gateway.request.completed.v1', leaderUser).map((event) => event.status),
        ['success'],
      );
    });
  }
});

describe('a cache hit billed by AI_GATEWAY_REUSE_BILLING=full (embedded)', () => {
  const upstream = new FakeOpenAiUpstream('billed');
  const billedDir = mkdtempSync(join(tmpdir(), 'aigw-reuse-billed-'));
  const prompt = `Billed reuse ${randomUUID()}`;
  const MAX_TOKENS = 16;
  /** What each admission holds: the prompt's estimate plus max_tokens. */
  const HOLD =
    estimatePromptTokensUpperBound({ messages: [{ role: 'user', content: prompt }] }) + MAX_TOKENS;
  /** What the fake upstream reports for one answer (12 in, 6 out): what `full` bills a hit. */
  const ANSWER_TOKENS = 18;
  // Room for the miss and two hits (used 36, plus a hold), not for a third hit (used 54).
  const LIMIT = 2 * ANSWER_TOKENS + HOLD + 9;
  let gateway: AppProcess;

  before(async () => {
    await upstream.start();
    const config = join(billedDir, 'billed.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: billed}
spec:
  backends:
  - {name: billed-upstream, provider: vllm, baseUrl: "${upstream.baseUrl}", model: up-model, modelNameOverride: billed-model}
  userIdentification: {header: x-user-id}
  caching:
    enabled: true
    ttl: 3600s
    keyComponents: [prompt, model]
  tokenBudget:
    perUser: {limit: ${LIMIT}, period: 30d}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(billedDir, 'data'),
      AI_GATEWAY_REUSE_BILLING: 'full',
    });
  });
  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  it('lowers the remaining budget on each hit, then refuses with 429 once it is used up', async () => {
    const user = `billed-${randomUUID()}`;
    const ask = () =>
      chat(gateway.baseUrl, { model: 'billed-model', prompt, user, maxTokens: MAX_TOKENS });
    const remainingMetric = async () =>
      metricSum(
        await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text(),
        'ai_gateway_budget_remaining',
        { budget_key: user, limit: 'tokenBudget.perUser' },
      );
    // Usage is settled off the request path: poll (with a deadline) until it is.
    const settledTo = (expected: number) =>
      until(
        `ai_gateway_budget_remaining settles to ${expected}`,
        async () => (await remainingMetric()) === expected,
      );
    const headerRemaining = (response: Response) =>
      Number(response.headers.get('x-ratelimit-remaining-tokens'));

    const miss = await ask();
    assert.equal(miss.headers.get('x-ai-gateway-cache'), 'miss');
    assert.equal(headerRemaining(miss), LIMIT - HOLD);
    assert.equal(await answerText(miss), FULL_ANSWER);
    await settledTo(LIMIT - ANSWER_TOKENS);

    for (const used of [ANSWER_TOKENS, 2 * ANSWER_TOKENS]) {
      const hit = await ask();
      assert.equal(hit.headers.get('x-ai-gateway-cache'), 'hit');
      // Admitted against the budget like a call: the header shows this hit's hold.
      assert.equal(headerRemaining(hit), LIMIT - used - HOLD);
      assert.equal(await answerText(hit), FULL_ANSWER);
      // Billed the original answer's tokens though no provider was called.
      await settledTo(LIMIT - used - ANSWER_TOKENS);
    }
    assert.equal(upstream.calls.length, 1, 'the hits made no upstream call');

    const refused = await ask();
    const body = await refused.text();
    assert.equal(refused.status, 429, body);
    assert.match(body, /tokenBudget\.perUser/);
    assert.equal(headerRemaining(refused), LIMIT - 3 * ANSWER_TOKENS);
    assert.equal(upstream.calls.length, 1);
  });
});
