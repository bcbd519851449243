import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import type {
  GatewayAnswer,
  GatewayRequest,
  JsonAnswer,
  JsonObject,
  RouterPort,
} from '@aigw/contracts/data-plane';
import { IngressPipeline, type RouteAnswerReport } from '../ingress-pipeline';

const ROUTES = `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: guarded}
spec:
  backends: [{name: g, provider: local, model: guarded}]
  security:
    responseValidation:
      redact: {detectors: [email]}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends: [{name: o, provider: local, model: open}]
`;

function load(yaml: string): GatewayConfig {
  const result = parseGatewayConfig(yaml, { env: {} });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const answerOf = (content: string): JsonAnswer => ({
  kind: 'json',
  status: 200,
  body: { choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] },
  usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, source: 'reported' },
  servedBy: { backend: 'b', provider: 'local', model: 'm' },
});

function pipelineAnswering(config: GatewayConfig, answer: GatewayAnswer) {
  const promise = Promise.resolve(answer);
  const router: RouterPort = { route: () => promise, listModels: () => [] };
  const pipeline = new IngressPipeline(() => config, router, {});
  const request = (model: string) =>
    pipeline.prepare(
      'chat',
      { model, messages: [{ role: 'user', content: 'hi' }] },
      {},
      'r',
    ) as GatewayRequest;
  return { pipeline, request, promise };
}

const contentOf = (answer: GatewayAnswer) =>
  (((answer as JsonAnswer).body.choices as JsonObject[])[0].message as JsonObject).content;

describe('IngressPipeline answer checks (security.responseValidation)', () => {
  it('masks the answer on a route that checks answers and reports under the route name', async () => {
    const { pipeline, request } = pipelineAnswering(load(ROUTES), answerOf('mail a@b.io'));
    const reports: string[] = [];
    const report: RouteAnswerReport = (route) => ({
      redacted: ({ part, counts }) => reports.push(`${route} ${part} ${[...counts].join()}`),
      blocked: ({ rule, part }) => reports.push(`${route} blocked ${rule} in ${part}`),
    });
    const answer = await pipeline.handle(request('guarded'), new AbortController().signal, report);
    assert.equal(contentOf(answer), 'mail [REDACTED:email]');
    assert.deepEqual(reports, ['guarded content email,1']);
    // A cache hit is checked the same way.
    const hit = pipeline.checkAnswer(request('guarded'), answerOf('x@y.io'), report);
    assert.equal(contentOf(hit), '[REDACTED:email]');
  });

  it("another route's answers, and every answer when no route checks any, are the router's own promise", async () => {
    const report: RouteAnswerReport = () => assert.fail('nothing to check');
    const guarded = pipelineAnswering(load(ROUTES), answerOf('mail a@b.io'));
    const open = guarded.pipeline.handle(
      guarded.request('open'),
      new AbortController().signal,
      report,
    );
    assert.equal(open, guarded.promise);
    assert.equal(contentOf(await open), 'mail a@b.io');
    const plain = pipelineAnswering(load(ROUTES.split('---')[1]), answerOf('mail a@b.io'));
    const served = plain.pipeline.handle(
      plain.request('open'),
      new AbortController().signal,
      report,
    );
    assert.equal(served, plain.promise);
  });
});
