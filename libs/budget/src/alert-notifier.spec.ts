import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BudgetUnit, createAlertRaised, LimitKind } from '@aigw/contracts';
import { WebhookAlertNotifier } from './alert-notifier';

const alert = createAlertRaised({
  requestId: 'r1',
  partitionKey: 'u1',
  budgetKey: 'u1',
  limitKind: LimitKind.MaxDailyCostPerUser,
  windowId: 'w',
  threshold: 8,
  used: 8.5,
  limit: 10,
  unit: BudgetUnit.Dollars,
  message: 'u1 spent 8.50 dollars today',
});

describe('WebhookAlertNotifier', () => {
  it('POSTs the alert as JSON to the webhook', async () => {
    const received: unknown[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({
          method: req.method,
          type: req.headers['content-type'],
          body: JSON.parse(body) as unknown,
        });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const failures: string[] = [];
    await new WebhookAlertNotifier(`http://127.0.0.1:${port}/hook`, (f) => failures.push(f)).notify(
      alert,
    );
    server.close();
    assert.deepEqual(failures, []);
    assert.equal(received.length, 1);
    const [call] = received as {
      method: string;
      type: string;
      body: { threshold: number; budgetKey: string };
    }[];
    assert.equal(call.method, 'POST');
    assert.equal(call.type, 'application/json');
    assert.equal(call.body.threshold, 8);
    assert.equal(call.body.budgetKey, 'u1');
  });

  it('reports a failing or unreachable webhook without throwing', async () => {
    const failures: string[] = [];
    await new WebhookAlertNotifier(
      'http://127.0.0.1:1/hook',
      (f) => failures.push(f),
      1_000,
    ).notify(alert);
    assert.equal(failures.length, 1);
  });
});
