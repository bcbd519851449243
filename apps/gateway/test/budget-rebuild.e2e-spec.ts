import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBudgetRebuild, startApp } from '@aigw/testing/processes';

describe('budget rebuild from the event log', () => {
  it('rebuilds balances equal to the live ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-rebuild-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: local, provider: local, model: gpt-4o-mini}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: 100000, period: 30d}
  tokenRateLimit:
    perUser: {totalTokensPerDay: 100000}
  costControl:
    maxDailyCostPerUser: 100
    modelPricing:
      gpt-4o-mini: {inputPer1k: 0.15, outputPer1k: 0.6}
`,
    );
    const env = { AI_GATEWAY_CONFIG: config, AI_GATEWAY_DATA_DIR: join(dir, 'data') };
    const gateway = await startApp('gateway', env);
    try {
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          fetch(`${gateway.baseUrl}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-user-id': `user-${i % 4}` },
            body: JSON.stringify({
              model: 'gpt-4o-mini',
              stream: i % 2 === 0,
              messages: [{ role: 'user', content: `question ${i}` }],
            }),
          }).then((r) => r.text()),
        ),
      );
    } finally {
      await gateway.stop();
    }
    const { stdout } = await runBudgetRebuild(env);
    assert.match(
      stdout,
      /rebuilt (\d+) balances from 30 usage events and 0 adjustments: 0 mismatches/,
    );
    assert.ok(Number(/rebuilt (\d+) balances/.exec(stdout)![1]) >= 12, stdout);
  });

  it('replays an operator reset in order with the usage around it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aigw-rebuild-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: local, provider: local, model: gpt-4o-mini}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: 100000, period: 30d}
`,
    );
    const env = { AI_GATEWAY_CONFIG: config, AI_GATEWAY_DATA_DIR: join(dir, 'data') };
    const gateway = await startApp('gateway', env);
    const ask = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-user-id': 'alice' },
          body: JSON.stringify({
            model: 'gpt-4o-mini',
            messages: [{ role: 'user', content: 'hi' }],
          }),
        });
        assert.equal(response.status, 200, await response.text());
      }
    };
    try {
      await ask(5);
      const reset = await fetch(`http://127.0.0.1:${gateway.adminPort}/admin/budgets/alice/reset`, {
        method: 'POST',
        body: '{}',
      });
      assert.equal(reset.status, 202);
      await ask(3);
    } finally {
      await gateway.stop();
    }
    const { stdout } = await runBudgetRebuild(env);
    // The live balance holds only the 3 calls after the reset; so must the rebuilt one.
    assert.match(stdout, /rebuilt 1 balances from 8 usage events and 1 adjustments: 0 mismatches/);
  });
});
