// An operator lowers a caller's daily token budget below what the caller already spent, in
// the config file of a running all-in-one gateway: the caller's next call is refused at
// once, and the remaining gauge says 0 within a few seconds, with no call of theirs
// settling in between (a refused call settles nothing).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricSum } from '@aigw/testing';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { configReloads, eventually } from './reload-probes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-lowered-limit-'));
const configPath = join(dir, 'gateway.yaml');

/** Each answer reports 300 prompt and 300 completion tokens. */
const backend = createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4o-mini',
        choices: [
          { index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: 300, completion_tokens: 300, total_tokens: 600 },
      }),
    );
  });
});

const routeWithBudget = (port: number, tokens: number) => `kind: AIGatewayRoute
metadata: {name: budgeted}
spec:
  backends:
  - {name: openai, provider: openai, baseUrl: "http://127.0.0.1:${port}/v1", model: gpt-4o-mini}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: ${tokens}, period: 1d}
`;

/** Saves the way editors and ConfigMap updates do: a whole new file renamed over the old. */
function save(text: string): void {
  const temp = join(dir, `.gateway.yaml.${process.hrtime.bigint()}`);
  writeFileSync(temp, text);
  renameSync(temp, configPath);
}

describe('all-in-one gateway: a caller limit lowered below its spend', () => {
  let gateway: AppProcess;
  let port = 0;

  const chat = () =>
    fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'alice' },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
  const remaining = async () =>
    metricSum(
      await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text(),
      'ai_gateway_budget_remaining',
      { budget_key: 'alice', limit: 'tokenBudget.perUser' },
    );

  before(async () => {
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    port = (backend.address() as AddressInfo).port;
    save(routeWithBudget(port, 10_000));
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: configPath,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
  });
  after(async () => {
    await gateway.stop();
    backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the next call at once and shows no room left', async (t) => {
    const first = await chat();
    assert.equal(first.status, 200, await first.text());
    // Should the day end mid-test, the spend starts over: the figures are then off.
    const day = new Date().toISOString().slice(0, 10);
    await eventually('the usage is settled', async () =>
      (await remaining()) === 9_400 ? true : undefined,
    );
    // The embedded store's balances are visible to an operator (no Redis here).
    assert.ok(
      metricSum(
        await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text(),
        'ai_gateway_budget_local_balances',
      ) >= 1,
    );

    save(routeWithBudget(port, 500));
    await eventually('the edit is loaded', async () =>
      (await configReloads(gateway, 'success')) >= 1 ? true : undefined,
    );
    const refused = await chat();
    const body = (await refused.json()) as { error: { code: string } };
    if (new Date().toISOString().slice(0, 10) !== day) {
      t.skip('the day ended mid-test: its spend started over');
      return;
    }
    assert.equal(refused.status, 429, JSON.stringify(body));
    assert.equal(body.error.code, 'budget_exceeded');
    await eventually('the gauge shows no room under the lowered limit', async () =>
      (await remaining()) === 0 ? true : undefined,
    );
  });
});
