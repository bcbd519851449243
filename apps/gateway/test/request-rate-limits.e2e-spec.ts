import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { clockMinute, earlyInTheMinute, metricSum, until } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

// tokenRateLimit.*.requestsPerMinute (an extension to the spec) on the all-in-one gateway:
// a call is one request whatever its size, held at admission and spent by its usage event.

function route(backends: string, limits: string): string {
  return `kind: AIGatewayRoute
metadata: {name: requests}
spec:
  backends:
${backends}
  userIdentification: {header: x-user-id}
${limits}`;
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

async function chat(gateway: AppProcess, user: string, maxTokens = 20): Promise<Answer> {
  const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': user },
    body: JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: maxTokens,
    }),
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** The x-ratelimit-*-requests headers, by their short name. */
function requestHeaders(answer: Answer) {
  return {
    limit: answer.headers.get('x-ratelimit-limit-requests'),
    remaining: answer.headers.get('x-ratelimit-remaining-requests'),
    reset: answer.headers.get('x-ratelimit-reset-requests'),
  };
}

/** A 429 as OpenAI words one, naming `kind`, with the request headers and Retry-After. */
function assertRequestRefusal(answer: Answer, kind: string, limit: number): void {
  assert.equal(answer.status, 429, answer.body);
  const { error } = JSON.parse(answer.body) as { error: Record<string, unknown> };
  assert.equal(error.type, 'rate_limit_error');
  assert.equal(error.code, 'budget_exceeded');
  assert.ok(String(error.message).includes(kind), String(error.message));
  const headers = requestHeaders(answer);
  assert.equal(headers.limit, String(limit));
  assert.equal(headers.remaining, '0');
  // The reset is the end of the minute, as Retry-After says (in whole seconds).
  const seconds = /^(\d+)s$|^1m$/.exec(headers.reset ?? '');
  assert.ok(seconds, `reset ${headers.reset}`);
  const resetS = seconds[1] === undefined ? 60 : Number(seconds[1]);
  assert.equal(answer.headers.get('retry-after'), String(resetS));
}

/** What the upstream reports for every call: more input than the gateway estimates. */
const REPORTED_USAGE = { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 };

describe('requestsPerMinute on the all-in-one gateway', () => {
  const upstream = new FakeOpenAiUpstream('requests');
  let perUser: AppProcess;
  let perModel: AppProcess;
  let diverting: AppProcess;

  before(async () => {
    await upstream.start();
    upstream.reportUsage(REPORTED_USAGE);
    [perUser, perModel, diverting] = await Promise.all([
      startGatewayWithConfig(
        route(
          `  - {name: upstream, provider: vllm, baseUrl: '${upstream.baseUrl}', model: gpt-4o-mini}`,
          `  tokenRateLimit:\n    perUser: {requestsPerMinute: 3, inputTokensPerMinute: 100000}\n`,
        ),
      ),
      startGatewayWithConfig(
        route(
          `  - {name: local, provider: local, model: gpt-4o-mini}`,
          `  tokenRateLimit:\n    perModel:\n      gpt-4o-mini: {requestsPerMinute: 3}\n`,
        ),
      ),
      startGatewayWithConfig(
        route(
          `  - {name: limited, priority: 0, provider: local, model: small-model, modelNameOverride: gpt-4o-mini}
  - {name: spare, priority: 1, provider: local, model: spare-model, modelNameOverride: gpt-4o-mini}`,
          `  failover: {on: [budgetExceeded]}
  tokenRateLimit:
    perModel:
      small-model: {requestsPerMinute: 2, tokensPerMinute: 1000000}
`,
        ),
      ),
    ]);
  });

  after(async () => {
    await Promise.all([perUser?.stop(), perModel?.stop(), diverting?.stop()]);
    await upstream.stop();
  });

  it("the 4th call of a user within the minute is a 429 with the request headers; another user's are unaffected", async () => {
    for (let attempt = 0; ; attempt++) {
      const minute = await earlyInTheMinute();
      const alice = `alice-${randomUUID()}`;
      // A failed call releases its hold and spends nothing: it does not count.
      upstream.next({ kind: 'status', status: 400 });
      assert.equal((await chat(perUser, alice)).status, 400);
      const answers: Answer[] = [];
      // Whatever their size: one tiny call, one large.
      for (const maxTokens of [1, 2000, 20, 20])
        answers.push(await chat(perUser, alice, maxTokens));
      const bob = await chat(perUser, `bob-${randomUUID()}`);
      if (clockMinute() !== minute && attempt < 2) continue;

      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200, 429],
      );
      assert.deepEqual(
        answers.slice(0, 3).map((a) => requestHeaders(a).remaining),
        ['2', '1', '0'],
      );
      for (const answer of answers.slice(0, 3)) {
        assert.equal(requestHeaders(answer).limit, '3');
        // Beside the token limit's own headers.
        assert.equal(answer.headers.get('x-ratelimit-limit-tokens'), '100000');
      }
      assertRequestRefusal(answers[3], 'tokenRateLimit.perUser.requestsPerMinute', 3);
      // The user's token limit beside it, as the README lists for a refused request: the
      // three answered calls counted, each by its estimate while held or by the input the
      // provider reported once settled (more than the estimate here), whichever the store
      // holds when the refusal reads it.
      const refused = answers[3].headers;
      assert.equal(refused.get('x-ratelimit-limit-tokens'), '100000');
      const refusedRemaining = Number(refused.get('x-ratelimit-remaining-tokens'));
      const firstRemaining = Number(answers[0].headers.get('x-ratelimit-remaining-tokens'));
      assert.ok(
        refusedRemaining >= 100000 - 3 * REPORTED_USAGE.prompt_tokens &&
          refusedRemaining < firstRemaining,
        `refused ${refusedRemaining}, first admitted ${firstRemaining}`,
      );
      assert.match(refused.get('x-ratelimit-reset-tokens') ?? '', /^(\d+s|1m)$/);

      assert.equal(bob.status, 200);
      assert.equal(requestHeaders(bob).remaining, '2');

      // Settled: the budget service spent one request per answered call.
      await until(
        'the metrics show the settlement',
        async () => {
          const metrics = await (
            await fetch(`http://127.0.0.1:${perUser.adminPort}/metrics`)
          ).text();
          return (
            metricSum(metrics, 'ai_gateway_budget_remaining', {
              budget_key: alice,
              limit: 'tokenRateLimit.perUser.requestsPerMinute',
            }) === 0 &&
            metrics.includes(
              `budget_key="${alice}",limit="tokenRateLimit.perUser.requestsPerMinute"`,
            )
          );
        },
        { deadlineMs: 30_000 },
      );
      return;
    }
  });

  it('a per-model limit caps the model across users', async () => {
    // Read around each attempt: one that crossed into the next minute may have refused too.
    const perModelRefusals = async () =>
      metricSum(
        await (await fetch(`http://127.0.0.1:${perModel.adminPort}/metrics`)).text(),
        'ai_gateway_budget_refusals_total',
        { route: 'chat.completions', limit: 'tokenRateLimit.perModel.requestsPerMinute' },
      );
    for (let attempt = 0; ; attempt++) {
      const minute = await earlyInTheMinute();
      const refusalsBefore = await perModelRefusals();
      const answers: Answer[] = [];
      for (let i = 0; i < 4; i++) answers.push(await chat(perModel, `user-${i}-${randomUUID()}`));
      if (clockMinute() !== minute && attempt < 2) continue;
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200, 429],
      );
      assert.deepEqual(
        answers.slice(0, 3).map((a) => requestHeaders(a).remaining),
        ['2', '1', '0'],
      );
      assertRequestRefusal(answers[3], 'tokenRateLimit.perModel.requestsPerMinute', 3);
      // Counted once, by the limit that refused it, apart from a provider's 429s.
      assert.equal((await perModelRefusals()) - refusalsBefore, 1);
      return;
    }
  });

  it('with budgetExceeded in failover.on, a model out of requests diverts to the next one', async () => {
    for (let attempt = 0; ; attempt++) {
      const minute = await earlyInTheMinute();
      const answers: Answer[] = [];
      for (let i = 0; i < 4; i++) answers.push(await chat(diverting, `user-${i}-${randomUUID()}`));
      if (clockMinute() !== minute && attempt < 2) continue;
      assert.deepEqual(
        answers.map((a) => [a.status, a.headers.get('x-ai-gateway-backend')]),
        [
          [200, 'limited'],
          [200, 'limited'],
          [200, 'spare'],
          [200, 'spare'],
        ],
      );
      // The spare model has no request limit: no request headers to send for it.
      assert.equal(requestHeaders(answers[1]).remaining, '0');
      assert.equal(requestHeaders(answers[2]).limit, null);
      return;
    }
  });
});
