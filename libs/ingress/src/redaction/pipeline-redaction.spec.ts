import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import type { GatewayRequest, RouterPort } from '@aigw/contracts/data-plane';
import { IngressPipeline } from '../ingress-pipeline';

function load(): GatewayConfig {
  const result = parseGatewayConfig(
    `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: private}
spec:
  backends: [{name: p, provider: local, model: private}]
  security:
    promptValidation:
      blockPatterns: ["forbidden"]
      redact: {detectors: [email]}
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: open}
spec:
  backends: [{name: o, provider: local, model: open}]
`,
    { env: {} },
  );
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

const router: RouterPort = {
  route: () => Promise.reject(new Error('unused')),
  listModels: () => [],
};

describe('IngressPipeline.redact', () => {
  const config = load();
  const pipeline = new IngressPipeline(() => config, router, {});
  const prepare = (model: string, content: string) =>
    pipeline.prepare(
      'chat',
      { model, messages: [{ role: 'user', content }] },
      {},
      'r',
    ) as GatewayRequest;

  it('masks on a route with redact and reports the count under the route name', () => {
    const reports: [string, [string, number][]][] = [];
    const request = prepare('private', 'mail a@b.io and c@d.io');
    const redacted = pipeline.redact(request, (route, tally) => reports.push([route, [...tally]]));
    assert.deepEqual(redacted.body.messages, [
      { role: 'user', content: 'mail [REDACTED:email] and [REDACTED:email]' },
    ]);
    assert.deepEqual(reports, [['private', [['email', 2]]]]);
    assert.equal(redacted.caller, request.caller, 'the rest of the request is kept');
  });

  it('returns the very request, reporting nothing, on a route without redact or with no match', () => {
    const report = () => assert.fail('nothing to report');
    const open = prepare('open', 'mail a@b.io');
    assert.equal(pipeline.redact(open, report), open);
    const clean = prepare('private', 'nothing here');
    assert.equal(pipeline.redact(clean, report), clean);
  });

  it("masks an embedding's titles as its input, on a call and on a batch line alike", () => {
    const body = {
      model: 'private',
      input: ['doc a@b.io', 'doc'],
      provider_extras: { title: ['To c@d.io', null] },
    };
    const reports: [string, [string, number][]][] = [];
    const request = pipeline.prepare('embeddings', body, {}, 'r') as GatewayRequest;
    const redacted = pipeline.redact(request, (route, tally) => reports.push([route, [...tally]]));
    const masked = {
      model: 'private',
      input: ['doc [REDACTED:email]', 'doc'],
      provider_extras: { title: ['To [REDACTED:email]', null] },
    };
    assert.deepEqual(redacted.body, masked);
    assert.deepEqual(reports, [['private', [['email', 2]]]]);
    const tally = new Map<string, number>();
    assert.deepEqual(pipeline.screenPrompt('private', 'embeddings', body, tally), masked);
    assert.deepEqual([...tally], [['email', 2]]);
  });

  it('block patterns still refuse before redaction is reached', () => {
    assert.throws(() => prepare('private', 'forbidden a@b.io'), /blockPatterns\[0\]/);
  });
});
