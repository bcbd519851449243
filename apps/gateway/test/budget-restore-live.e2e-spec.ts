import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { budgetRebuildOutcome, perUserBudgetConfig, startApp } from '@aigw/testing/processes';

/** The rebuild CLI's output and exit code, kept on failure. */
const rebuild = budgetRebuildOutcome;

// The embedded gateway keeps its balances in memory and writes each back whole: a restore
// written to budget.db beside it was never enforced, and its next settlement of that balance
// overwrote it, while the CLI said 'restored', exit 0.
describe('budget rebuild --restore and a running embedded gateway', () => {
  it(
    'refuses to restore beside it, and a restore made while it is stopped holds once it settles more',
    { timeout: 180_000 },
    async (t) => {
      const { dir, config } = perUserBudgetConfig('aigw-restore-live-');
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const data = join(dir, 'data');
      const env = { AI_GATEWAY_CONFIG: config, AI_GATEWAY_DATA_DIR: data };
      const ask = async (baseUrl: string, count: number) => {
        for (let i = 0; i < count; i++) {
          const response = await fetch(`${baseUrl}/v1/chat/completions`, {
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
      const first = await startApp('gateway', env);
      try {
        await ask(first.baseUrl, 4);
      } finally {
        await first.stop();
      }
      // The budget store is lost; the event log still holds the spend.
      for (const name of readdirSync(data)) {
        if (name.startsWith('budget.db')) rmSync(join(data, name));
      }
      const running = await startApp('gateway', env);
      try {
        const beside = await rebuild(env, '--restore', '--catch-up-wait', '5');
        assert.equal(beside.code, 2, beside.stdout + beside.stderr);
        assert.match(beside.stderr, /a running process keeps the balances of .*budget\.db/);
        assert.doesNotMatch(beside.stdout, /restored/);
      } finally {
        await running.stop();
      }
      const stopped = await rebuild(env, '--restore', '--catch-up-wait', '5');
      assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
      assert.match(stopped.stdout, /restored .*: added \d+/);
      const again = await startApp('gateway', env);
      try {
        await ask(again.baseUrl, 1);
      } finally {
        await again.stop();
      }
      const after = await rebuild(env);
      assert.equal(after.code, 0, after.stdout + after.stderr);
      assert.match(
        after.stdout,
        /rebuilt 1 balances from 5 usage events and 0 adjustments: 0 mismatches/,
      );
    },
  );
});
