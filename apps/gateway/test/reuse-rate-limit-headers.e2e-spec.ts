import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
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
    const user = `limits-${randomUUID()}`;
    const prompt = `Limits ${randomUUID()}`;
    upstream.next({ kind: 'delay', ms: 800 });
    const leading = chat(gateway.baseUrl, { model: 'reused-model', prompt, user });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const follower = await chat(gateway.baseUrl, { model: 'reused-model', prompt, user });
    const leader = await leading;
    assert.equal(leader.headers.get('x-ai-gateway-dedup'), 'leader');
    assert.equal(follower.headers.get('x-ai-gateway-dedup'), 'follower');
    assert.equal(await answerText(leader), FULL_ANSWER);
    assert.equal(await answerText(follower), FULL_ANSWER);

    await new Promise((resolve) => setTimeout(resolve, 600)); // stored once complete
    // A streamed answer is stored apart from a JSON one: its first ask is a miss.
    await answerText(
      await chat(gateway.baseUrl, { model: 'reused-model', prompt, user, stream: true }),
    );
    await new Promise((resolve) => setTimeout(resolve, 600));
    for (const stream of [false, true]) {
      const hit = await chat(gateway.baseUrl, { model: 'reused-model', prompt, user, stream });
      assert.equal(hit.headers.get('x-ai-gateway-cache'), 'hit');
      assert.equal(await answerText(hit), FULL_ANSWER);
      // Nothing held for a reused answer: only the calls made count (the leader's when the
      // follower was answered, both calls by the hits).
      for (const [reused, calls] of [
        [follower, 1],
        [hit, 2],
      ] as const) {
        const headers = limits(reused);
        assert.equal(headers['x-ratelimit-limit-tokens'], '100000');
        assert.equal(headers['x-ratelimit-limit-requests'], '1000');
        assert.equal(headers['x-ratelimit-remaining-requests'], String(1000 - calls));
        assert.ok(Number(headers['x-ratelimit-remaining-tokens']) > 0, JSON.stringify(headers));
        assert.match(headers['x-ratelimit-reset-requests'] ?? '', /^(\d+m?s|1m)$/);
      }
    }
    assert.equal(upstream.calls.length, 2, 'the JSON and the streamed calls, nothing else');
  });
});
