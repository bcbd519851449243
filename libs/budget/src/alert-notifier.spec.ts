import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BudgetUnit, createAlertRaised, LimitKind } from '@aigw/contracts';
import { MetricsRegistry } from '@aigw/observability';
import {
  WebhookAlertNotifier,
  webhookAlertNotifier,
  type AlertWebhookResult,
} from './alert-notifier';

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

interface Received {
  method?: string;
  url?: string;
  type?: string;
  authorization?: string;
  body: unknown;
}

/** A webhook receiver on a free port; `answer` writes each reply. */
async function receiver(
  answer: (req: IncomingMessage, res: ServerResponse) => void = (_, res) => res.end('ok'),
): Promise<{ origin: string; received: Received[]; close: () => void }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({
        method: req.method,
        url: req.url,
        type: req.headers['content-type'],
        authorization: req.headers.authorization,
        body: body ? (JSON.parse(body) as unknown) : undefined,
      });
      answer(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  server.unref(); // a failed assertion must not leave the test process waiting on it
  const { port } = server.address() as AddressInfo;
  return {
    origin: `127.0.0.1:${port}`,
    received,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Sends `alert` through a notifier on `url` and returns every result it reported. */
async function notifyReports(
  url: string,
  options: { timeoutMs?: number; retryDelaysMs?: readonly number[] } = {},
): Promise<AlertWebhookResult[]> {
  const results: AlertWebhookResult[] = [];
  await new WebhookAlertNotifier(
    url,
    (r) => results.push(r),
    options.timeoutMs,
    options.retryDelaysMs,
  ).notify(alert);
  return results;
}

describe('WebhookAlertNotifier', () => {
  it('POSTs the alert as JSON to the webhook and reports it delivered', async () => {
    const hook = await receiver();
    const results = await notifyReports(`http://${hook.origin}/hook`);
    hook.close();
    assert.deepEqual(results, [
      { outcome: 'delivered', detail: undefined, attempt: 1, willRetry: false },
    ]);
    assert.equal(hook.received.length, 1);
    const [call] = hook.received as {
      method: string;
      type: string;
      body: { threshold: number; budgetKey: string };
    }[];
    assert.equal(call.method, 'POST');
    assert.equal(call.type, 'application/json');
    assert.equal(call.body.threshold, 8);
    assert.equal(call.body.budgetKey, 'u1');
  });

  it('reports an unreachable webhook without throwing, and tries it again', async () => {
    const results = await notifyReports('http://127.0.0.1:1/hook', {
      timeoutMs: 1_000,
      retryDelaysMs: [10, 10],
    });
    assert.deepEqual(
      results.map((r) => [r.outcome, r.attempt, r.willRetry]),
      [
        ['unreachable', 1, true],
        ['unreachable', 2, true],
        ['unreachable', 3, false],
      ],
    );
  });

  it('gives up on a webhook that does not answer in time, as a timeout', async () => {
    const hook = await receiver(() => undefined); // never answers
    const started = Date.now();
    const results = await notifyReports(`http://${hook.origin}/hook`, {
      timeoutMs: 200,
      retryDelaysMs: [],
    });
    hook.close();
    assert.ok(Date.now() - started < 2_000);
    assert.deepEqual(
      results.map((r) => r.outcome),
      ['timeout'],
    );
  });

  it('reports an error status as refused, naming the status', async () => {
    const hook = await receiver((_, res) => res.writeHead(500).end());
    const results = await notifyReports(`http://${hook.origin}/hook`, { retryDelaysMs: [] });
    hook.close();
    assert.equal(results.length, 1);
    assert.equal(results[0].outcome, 'refused');
    assert.match(results[0].detail ?? '', /500/);
  });

  // A receiver restarting (503), overloaded (429) or slow once lost the alert for good.
  it('tries again after a failure that may pass, the same alert, until one is delivered', async () => {
    let calls = 0;
    const hook = await receiver((_, res) => res.writeHead(++calls === 1 ? 503 : 200).end());
    const results = await notifyReports(`http://${hook.origin}/hook`, { retryDelaysMs: [10, 10] });
    hook.close();
    assert.deepEqual(
      results.map((r) => [r.outcome, r.attempt, r.willRetry]),
      [
        ['refused', 1, true],
        ['delivered', 2, false],
      ],
    );
    assert.deepEqual(hook.received[0].body, hook.received[1].body);
    assert.equal((hook.received[1].body as { eventId: string }).eventId, alert.eventId);
  });

  it('does not try again a refusal that will not pass (400, 401, 404)', async () => {
    for (const status of [400, 401, 404]) {
      const hook = await receiver((_, res) => res.writeHead(status).end());
      const results = await notifyReports(`http://${hook.origin}/hook`, {
        retryDelaysMs: [10, 10],
      });
      hook.close();
      assert.equal(hook.received.length, 1, `${status}`);
      assert.deepEqual(
        results.map((r) => [r.outcome, r.willRetry]),
        [['refused', false]],
      );
    }
  });

  // undici follows no redirect: the alert never reached the receiver (an http:// URL whose
  // host now redirects to https://, a moved endpoint), so it must not pass as delivered.
  it('reports a redirect as refused: the alert was not delivered', async () => {
    const hook = await receiver((_, res) =>
      res.writeHead(307, { location: 'https://elsewhere.example/hook' }).end(),
    );
    const results = await notifyReports(`http://${hook.origin}/hook`, { retryDelaysMs: [10] });
    hook.close();
    assert.equal(results.length, 1);
    assert.equal(results[0].outcome, 'refused');
    assert.match(results[0].detail ?? '', /307/);
  });

  // Receivers behind basic auth are configured as https://user:password@host/path; undici
  // drops a URL's credentials, so the receiver saw no Authorization and answered 401.
  it("sends a URL's user and password as basic auth, never in what it reports", async () => {
    const hook = await receiver((req, res) =>
      res.writeHead(req.headers.authorization ? 200 : 401).end(),
    );
    const results = await notifyReports(
      `http://alerts%40ops:s3cret%3Apass@${hook.origin}/hook?channel=budget`,
    );
    hook.close();
    // The whole report: nothing of the URL's credentials in it, as before the retries.
    assert.deepEqual(results, [
      { outcome: 'delivered', detail: undefined, attempt: 1, willRetry: false },
    ]);
    assert.equal(hook.received[0].url, '/hook?channel=budget');
    assert.equal(
      hook.received[0].authorization,
      `Basic ${Buffer.from('alerts@ops:s3cret:pass').toString('base64')}`,
    );
  });
});

describe('webhookAlertNotifier', () => {
  it('is none without a URL', () => {
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    assert.equal(
      webhookAlertNotifier(undefined, { metrics, logger: { warn: () => undefined } }),
      undefined,
    );
  });

  // A lost webhook was a warning line only: nothing an operator could alert on.
  it('counts each outcome and logs a failure without the URL or its credentials', async () => {
    const hook = await receiver((_, res) => res.writeHead(503).end());
    const metrics = new MetricsRegistry({ collectDefaultMetrics: false });
    const warnings: unknown[] = [];
    const logger = {
      warn: (message: string, fields?: unknown) => warnings.push({ message, fields }),
    };
    const notifier = webhookAlertNotifier(
      `http://ops:hunter2-secret@${hook.origin}/hook`,
      { metrics, logger },
      [10],
    );
    await notifier?.notify(alert);
    await webhookAlertNotifier('http://127.0.0.1:1/hook', { metrics, logger }, [])?.notify(alert);
    hook.close();
    const text = await metrics.metrics();
    assert.match(text, /ai_gateway_budget_alert_webhooks_total\{outcome="refused"\} 2/);
    assert.match(text, /ai_gateway_budget_alert_webhooks_total\{outcome="unreachable"\} 1/);
    assert.deepEqual(
      warnings.map((w) => (w as { message: string }).message),
      ['alert webhook failed; will retry', 'alert webhook failed', 'alert webhook failed'],
    );
    const logged = JSON.stringify(warnings);
    assert.match(logged, /503/);
    assert.doesNotMatch(logged, /hunter2|ops:|127\.0\.0\.1/);
  });
});
