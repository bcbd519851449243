// Health is kept by backend name. A reload that points a name at another upstream (another
// provider, another URL: an operator moving `primary` off a provider that asked to be left
// alone for five minutes) starts that name's health afresh: the new upstream is not tried
// last, nor shown cooling, for the old one's failures. A drain, the operator's own act on
// the name, stays.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configFromYaml as configFrom } from '@aigw/testing';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { BackendHealth } from './domain/backend-health';
import { FailoverRouter } from './failover-router';
import { answers, chatRequest, ScriptedProviders } from './testing/scripted-providers';

/** The route, with `primary` at that upstream, or without it (undefined). */
const config = (primary: string | undefined) =>
  configFrom(`
kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
${primary === undefined ? '' : `  - {name: primary, priority: 0, ${primary}, model: gpt-4}`}
  - {name: standby, priority: 1, provider: openai, baseUrl: "http://standby.test/v1", model: gpt-4}
  failover: {on: [rateLimit, error]}
`);
const OPENAI = 'provider: openai, baseUrl: "http://openai.test/v1"';

function setUp(initial: string) {
  let current = config(initial);
  const health = new BackendHealth();
  let primaryCalls = 0;
  const providers = new ScriptedProviders({
    // The first call to primary is refused for five minutes; later calls are answered.
    primary: async (call) => {
      if (primaryCalls++ === 0) {
        throw new DataPlaneError(DataPlaneErrorCode.UpstreamRateLimited, 'slow down', {
          upstreamStatus: 429,
          retryAfterMs: 300_000,
        });
      }
      return answers(call);
    },
  });
  const router = new FailoverRouter({
    config: () => current,
    providers,
    health,
    sleep: async () => undefined,
  });
  const served = async (id: string) =>
    (await router.route(chatRequest({ requestId: id }), new AbortController().signal)).servedBy
      .backend;
  return {
    health,
    served,
    reload: (primary: string | undefined) => (current = config(primary)),
  };
}

describe('a backend name a reload points at another upstream', () => {
  for (const [what, next] of [
    ['another provider', 'provider: anthropic, baseUrl: "http://anthropic.test/v1"'],
    ['another URL', 'provider: openai, baseUrl: "http://openai-eu.test/v1"'],
  ]) {
    it(`starts its health afresh: ${what}`, async () => {
      const { health, served, reload } = setUp(OPENAI);
      assert.equal(await served('a'), 'standby', 'the 429 fails over');
      assert.equal(health.isCooling('primary'), true);
      reload(next);
      assert.equal(await served('b'), 'primary');
      assert.equal(health.isCooling('primary'), false);
    });
  }

  it('starts its health afresh when it comes back at another upstream after a reload without it', async () => {
    const { health, served, reload } = setUp(OPENAI);
    await served('a');
    reload(undefined);
    assert.equal(await served('b'), 'standby');
    reload('provider: openai, baseUrl: "http://openai-eu.test/v1"');
    assert.equal(await served('c'), 'primary');
    assert.equal(health.isCooling('primary'), false);
  });

  it('keeps it cooling when the reload leaves its upstream as it was', async () => {
    const { health, served, reload } = setUp(OPENAI);
    await served('a');
    reload(`${OPENAI}, weight: 2`);
    assert.equal(await served('b'), 'standby');
    assert.equal(health.isCooling('primary'), true);
  });

  it("keeps an operator's drain", async () => {
    const { health, served, reload } = setUp(OPENAI);
    await served('a');
    health.drain('primary', { operator: 'ops' });
    reload('provider: anthropic, baseUrl: "http://anthropic.test/v1"');
    assert.equal(await served('b'), 'standby');
    assert.equal(health.snapshot('primary').state, 'drained');
  });
});
