// Backend health in the split deployment: the router keeps it, so its admin port shows a
// backend the provider-adapter's 429 cooled (the Retry-After crossing the wire), says it
// does not hold the upstream pools, and a reset there sends the next call to the backend.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startSplitDataPlane, type AppProcess } from '@aigw/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-split-backend-admin-'));

interface BackendView {
  backend: string;
  state: string;
  cooling: { trigger: string | null; reason: string; retryAfterMs: number | null } | null;
  upstream: { known: boolean; note?: string };
}

describe('split deployment: backend health on the router’s admin port', () => {
  const primary = new FakeOpenAiUpstream('primary');
  const secondary = new FakeOpenAiUpstream('secondary');
  let router: AppProcess;
  let ingress: AppProcess;
  /** Every process up so far, so teardown stops them even when a later start fails. */
  const started: AppProcess[] = [];
  let client: OpenAI;

  before(async () => {
    await Promise.all([primary.start(), secondary.start()]);
    const path = join(dir, 'split.yaml');
    writeFileSync(
      path,
      `kind: AIGatewayRoute
metadata: {name: split}
spec:
  backends:
  - {name: primary, priority: 0, provider: vllm, baseUrl: "${primary.baseUrl}", model: primary-model, modelNameOverride: gpt-4}
  - {name: secondary, priority: 1, provider: vllm, baseUrl: "${secondary.baseUrl}", model: secondary-model, modelNameOverride: gpt-4}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
`,
    );
    const shared = { AI_GATEWAY_CONFIG: path };
    ({ router, ingress } = await startSplitDataPlane(shared, dir, started));
    client = new OpenAI({ baseURL: `${ingress.baseUrl}/v1`, apiKey: 'c', maxRetries: 0 });
  });

  after(async () => {
    await Promise.all(started.map((app) => app.stop()));
    await Promise.all([primary.stop(), secondary.stop()]);
  });

  const ask = () =>
    client.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] });
  const routerAdmin = (path: string, init?: RequestInit) =>
    fetch(`http://127.0.0.1:${router.adminPort}${path}`, init);

  it('shows the cooled backend with its trigger, no pools it does not hold, and resets it', async () => {
    primary.next({ kind: 'status', status: 429, headers: { 'retry-after': '60' } });
    await ask();
    assert.deepEqual([primary.calls.length, secondary.calls.length], [1, 1], 'failed over');

    const list = (await (await routerAdmin('/admin/backends')).json()) as {
      backends: BackendView[];
    };
    const view = list.backends.find((b) => b.backend === 'primary');
    assert.equal(view?.state, 'cooling');
    assert.equal(view.cooling?.trigger, 'rateLimit');
    assert.equal(view.cooling.retryAfterMs, 60_000);
    assert.equal(view.upstream.known, false);
    assert.match(view.upstream.note ?? '', /provider-adapter/);

    await ask();
    assert.equal(primary.calls.length, 1, 'cooling: skipped');
    const reset = await routerAdmin('/admin/backends/split/primary/reset', { method: 'POST' });
    assert.equal(reset.status, 200);
    await ask();
    assert.equal(primary.calls.length, 2, 'the next call reaches it again');
    // The ingress routes nothing and has no backend state to show.
    assert.equal((await fetch(`http://127.0.0.1:${ingress.adminPort}/admin/backends`)).status, 404);
  });
});
