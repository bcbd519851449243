// Cost of prompt redaction per request, in-process (no HTTP), on this machine.
// Run: node_modules/.bin/node --require @swc-node/register libs/ingress/src/redaction/redaction.bench.ts
import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import type { GatewayRequest, JsonObject, RouterPort } from '@aigw/contracts/data-plane';
import { IngressPipeline } from '../ingress-pipeline';

const DURATION_MS = 1_000;

function load(): GatewayConfig {
  const result = parseGatewayConfig(
    `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: private}
spec:
  backends: [{name: p, provider: local, model: private}]
  security:
    promptValidation:
      redact:
        detectors: [email, phone, creditCard, iban, usSsn, apiKey]
        patterns: [{name: employeeId, regex: "EMP-[0-9]{6}"}]
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

function rate(label: string, run: () => unknown): void {
  for (let i = 0; i < 200; i++) run();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < DURATION_MS) {
    for (let i = 0; i < 20; i++) run();
    n += 20;
  }
  const perSecond = n / ((performance.now() - start) / 1000);
  console.log(
    `${label.padEnd(52)} ${Math.round(perSecond).toString().padStart(9)}/s  ${(1e6 / perSecond).toFixed(2).padStart(9)} µs`,
  );
}

const PROSE =
  'Please summarise the attached meeting notes from 2024-01-15 (v1.2.3 rollout, ticket 48213) ' +
  'and list the action items for the team, ordered by priority and owner. ';
const SENSITIVE =
  'Reach me at jane.doe@example.com or +44 20 7946 0958; card 4111 1111 1111 1111, key ' +
  'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789, employee EMP-123456. ';

function request(model: string, text: string, turns = 4): GatewayRequest {
  const messages: JsonObject[] = [{ role: 'system', content: 'You are a helpful assistant.' }];
  for (let i = 0; i < turns; i++) {
    messages.push({ role: i % 2 ? 'assistant' : 'user', content: text });
  }
  return {
    requestId: 'bench',
    operation: 'chat',
    requestedModel: model,
    stream: false,
    clientWantsStreamUsage: false,
    body: { model, messages },
    caller: { userKey: 'u' },
    allowedModels: [],
    forwardHeaders: {},
  };
}

function main(): void {
  const config = load();
  const pipeline = new IngressPipeline(() => config, router, {});
  const report = () => undefined;
  const kb = (text: string, kib: number) => text.repeat(Math.ceil((kib * 1024) / text.length));
  const cases: [string, GatewayRequest][] = [
    ['route without redact, 4 x 1 KiB', request('open', kb(PROSE, 1))],
    ['all detectors, 4 x 1 KiB, no match', request('private', kb(PROSE, 1))],
    ['all detectors, 4 x 1 KiB, 6 matches a message', request('private', PROSE + SENSITIVE)],
    ['all detectors, 4 x 32 KiB, no match', request('private', kb(PROSE, 32))],
    [
      'all detectors, 4 x 32 KiB, ~170 matches a message',
      request('private', kb(PROSE + SENSITIVE, 32)),
    ],
    // Adversarial: long runs a careless regex would rescan from every offset.
    ['all detectors, 1 x 100 KiB of digits', request('private', '7'.repeat(100 * 1024), 1)],
    [
      'all detectors, 1 x 100 KiB of letters and @',
      request('private', `${'a'.repeat(100 * 1024)}@`, 1),
    ],
    ['all detectors, 1 x 100 KiB of "1 " pairs', request('private', '1 '.repeat(50 * 1024), 1)],
  ];
  for (const [label, req] of cases) rate(label, () => pipeline.redact(req, report));
}

main();
