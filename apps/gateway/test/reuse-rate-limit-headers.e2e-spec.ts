import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { clockMinute, earlyInTheMinute, until } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { answerText, chat, FULL_ANSWER } from './reuse-helpers';

// A cache hit and a deduplicated answer are not admitted (nothing is held for them under
// the default AI_GATEWAY_REUSE_BILLING=none), yet carry the caller's x-ratelimit-* headers
// as every successful answer does.

const dir = mkdtempSync(join(tmpdir(), 'aigw-reuse-limits-'));

function limits(response: Response): Record<string, string | null> {
  const names = ['limit', 'remaining', 'reset'].flatMap((part) =>
    ['tokens', 'requests'].map((unit) => `x-ratelimit-${part}-${unit}`),
  );
  return Object.fromEntries(names.map((name) => [name, response.headers.get(name)]));
}

describe('rate-limit headers on reused answers (all-in-one gateway)', () => {
  const upstream = new FakeOpenAiUpstream('reuse-limits');
  let gateway: AppProcess;

  before(async () => {
    await upstream.start();
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: reused}
spec:
  backends:
  - {name: up, provider: vllm, baseUrl: "${upstream.baseUrl}", model: up-model, modelNameOverride: reused-model}
  userIdentification: {header: x-user-id}
  caching: {enabled: true, ttl: 3600s, keyComponents: [prompt, model]}
  deduplication: {enabled: true, window: 60s, keyComponents: [prompt, model]}
  tokenRateLimit:
    perUser: {inputTokensPerMinute: 100000, requestsPerMinute: 1000}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
  });
  after(async () => {
    await gateway.stop();
    await upstream.stop();
  });

  it('a deduplicated follower and a cache hit carry both families of headers', async () => {
    // The limits count per clock minute, and a reused answer is told the balances of its
    // caller's last admitted call only within that call's minute: a sequence that crossed
    // into the next minute is run again (fresh user and prompt).
    for (let attempt = 0; ; attempt++) {
      const minute = await earlyInTheMinute();
      const user = `limits-${randomUUID()}`;
      const prompt = `Limits ${randomUUID()}`;
      const callsBefore = upstream.calls.length;
      upstream.next({ kind: 'delay', ms: 800 });
      const leading = chat(gateway.baseUrl, { model: 'reused-model', prompt, user });
      // Its call reached the upstream, so its shared call is open: the next ask joins it.
      await until('the leader calls the upstream', () => upstream.calls.length > callsBefore, {
        everyMs: 10,
      });
      const follower = await chat(gateway.baseUrl, { model: 'reused-model', prompt, user });
      const leader = await leading;
      const [leaderText, followerText] = [await answerText(leader), await answerText(follower)];

      await new Promise((resolve) => setTimeout(resolve, 600)); // stored once complete
      // A streamed answer is stored apart from a JSON one: its first ask is a miss.
      await answerText(
        await chat(gateway.baseUrl, { model: 'reused-model', prompt, user, stream: true }),
      );
      await new Promise((resolve) => setTimeout(resolve, 600));
      const hits: { response: Response; text: string }[] = [];
      for (const stream of [false, true]) {
        const response = await chat(gateway.baseUrl, {
          model: 'reused-model',
          prompt,
          user,
          stream,
        });
        hits.push({ response, text: await answerText(response) });
      }
      if (clockMinute() !== minute && attempt < 2) continue;

      assert.equal(leader.headers.get('x-ai-gateway-dedup'), 'leader');
      assert.equal(follower.headers.get('x-ai-gateway-dedup'), 'follower');
      assert.equal(leaderText, FULL_ANSWER);
      assert.equal(followerText, FULL_ANSWER);
      for (const hit of hits) {
        assert.equal(hit.response.headers.get('x-ai-gateway-cache'), 'hit');
        assert.equal(hit.text, FULL_ANSWER);
        // Nothing held for a reused answer: only the calls made count (the leader's when the
        // follower was answered, both calls by the hits).
        for (const [reused, calls] of [
          [follower, 1],
          [hit.response, 2],
        ] as const) {
          const headers = limits(reused);
          assert.equal(headers['x-ratelimit-limit-tokens'], '100000');
          assert.equal(headers['x-ratelimit-limit-requests'], '1000');
          assert.equal(headers['x-ratelimit-remaining-requests'], String(1000 - calls));
          assert.ok(Number(headers['x-ratelimit-remaining-tokens']) > 0, JSON.stringify(headers));
          assert.match(headers['x-ratelimit-reset-requests'] ?? '', /^(\d+m?s|1m)$/);
        }
      }
      assert.equal(
        upstream.calls.length - callsBefore,
        2,
        'the JSON and the streamed calls, nothing else',
      );
      return;
    }
  });

  it('a caller whose first call is a hit on another caller’s answer is told its own limits', async () => {
    const prompt = `First hit ${randomUUID()}`;
    const filler = await chat(gateway.baseUrl, {
      model: 'reused-model',
      prompt,
      user: `filler-${randomUUID()}`,
    });
    assert.equal(await answerText(filler), FULL_ANSWER);
    await new Promise((resolve) => setTimeout(resolve, 600)); // stored once complete
    // A caller with no admitted call of its own: its balances read from the store, then
    // remembered for its next hit. Nothing of its own was ever held: every unit is left.
    const user = `newcomer-${randomUUID()}`;
    for (let hit = 0; hit < 2; hit++) {
      const response = await chat(gateway.baseUrl, { model: 'reused-model', prompt, user });
      assert.equal(response.headers.get('x-ai-gateway-cache'), 'hit');
      assert.equal(await answerText(response), FULL_ANSWER);
      const headers = limits(response);
      assert.equal(headers['x-ratelimit-limit-tokens'], '100000', `hit ${hit}`);
      assert.equal(headers['x-ratelimit-remaining-tokens'], '100000', `hit ${hit}`);
      assert.equal(headers['x-ratelimit-limit-requests'], '1000', `hit ${hit}`);
      assert.equal(headers['x-ratelimit-remaining-requests'], '1000', `hit ${hit}`);
      assert.match(headers['x-ratelimit-reset-requests'] ?? '', /^(\d+m?s|1m)$/);
    }
  });
});
