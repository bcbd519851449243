// CPU and heap per call of two steps every model call takes, with the real classes:
// CallerIdentifier.identify wired as IngressModule wires it (onRefusal set), on a route
// without JWT and on a JWT route whose token is already verified (both synchronous), and
// configUsagePricing's forCall (the prices pinned as a call starts) followed by the price.
//
//   node_modules/.bin/node --expose-gc --require @swc-node/register bench/micro/identity-pricing-calls.ts [N]
//
// Prints ns per call (best of 5 rounds of N, CPU time) and, with --expose-gc, bytes
// allocated per call (heap growth over a run too short for a scavenge). Compare two trees
// by running this file in each, alternately.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import {
  parseGatewayConfig,
  routeForModel,
  type GatewayConfig,
  type RouteConfig,
} from '@aigw/config';
import type { ProviderCall, ServedBy, TokenUsage } from '@aigw/contracts/data-plane';
import { MetricsRegistry } from '@aigw/observability';
import { jwtBenchRoutesYaml, LocalJwksServer, TestIssuer } from '@aigw/testing/jwks';
import { CallerIdentifier } from '../../libs/ingress/src/identity/caller-identifier';
import { configUsagePricing } from '../../libs/runtime/src/usage-pricing';

const N = Number(process.argv[2] ?? 1_000_000);
const ISSUER = 'https://bench.issuer';

function parsed(text: string): GatewayConfig {
  const result = parseGatewayConfig(text, { missingSecrets: 'warn', env: {} });
  if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  return result.config;
}

const identityConfig = (jwksUri: string) => parsed(jwtBenchRoutesYaml(ISSUER, jwksUri));

function timeSync(run: () => unknown): number {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const before = process.cpuUsage();
    for (let i = 0; i < N; i++) run();
    const used = process.cpuUsage(before);
    best = Math.min(best, ((used.user + used.system) * 1000) / N);
  }
  return best;
}

function bytesPerCall(run: () => unknown): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  const calls = 1_000;
  gc();
  const start = process.memoryUsage().heapUsed;
  for (let i = 0; i < calls; i++) run();
  return (process.memoryUsage().heapUsed - start) / calls;
}

function report(label: string, run: () => unknown): void {
  for (let i = 0; i < 100_000; i++) run(); // optimised before it is timed
  const bytes = bytesPerCall(run);
  const ns = timeSync(run);
  console.log(
    `${label.padEnd(44)} ${ns.toFixed(0).padStart(6)} ns` +
      (bytes === undefined ? '' : `  ~${Math.round(bytes).toString().padStart(4)} B allocated`),
  );
}

async function main(): Promise<void> {
  const jwks = await new LocalJwksServer().start();
  const config = identityConfig(jwks.url);
  const route = (name: string): RouteConfig => config.routes.find((r) => r.name === name)!;
  const refusals: unknown[] = [];
  const identifier = new CallerIdentifier(() => config, {
    verifiedTokenMaxAgeMs: 3_600_000, // the whole run on the verified-token path
    onRefusal: (error) => void refusals.push(error),
  });
  const open = route('open');
  const secured = route('secured');
  const plainHeaders = { 'x-user-id': 'alice', 'content-type': 'application/json' };
  report('identify, no JWT (sync)', () => identifier.identify(plainHeaders, open));

  const issuer = await TestIssuer.create(ISSUER, 'gw', 'ES256');
  jwks.publish(issuer.publicJwk);
  const token = await issuer.sign({ sub: 'alice', plan: 'pro' }, { expiresIn: 3600 });
  const tokenHeaders = { ...plainHeaders, authorization: `Bearer ${token}` };
  await identifier.identify(tokenHeaders, secured); // verified once: cached from here on
  report('identify, JWT already verified (sync)', () => {
    const identity = identifier.identify(tokenHeaders, secured);
    if (identity instanceof Promise) throw new Error('expected the verified token cached');
    return identity;
  });
  await jwks.stop();
  if (refusals.length > 0) throw new Error('a refusal on the success path');

  const pricingConfig = parsed(
    readFileSync(join(__dirname, '..', 'config', 'gateway.yaml'), 'utf8').replaceAll(
      '__UPSTREAM_BASE_URL__',
      'http://127.0.0.1:9/v1',
    ),
  );
  const pricing = configUsagePricing(() => pricingConfig, new MetricsRegistry());
  const backend = routeForModel(pricingConfig, 'gpt-4o-mini')!.backends[0];
  const servedBy: ServedBy = {
    backend: backend.name,
    provider: backend.provider,
    model: backend.model!,
  };
  const usage: TokenUsage = {
    inputTokens: 23,
    outputTokens: 9,
    cachedInputTokens: 0,
    source: 'reported',
  };
  const call = {} as ProviderCall;
  report('usage pricing: forCall, then price', () => pricing.forCall(call)(call, servedBy, usage));
  report('usage pricing: forCall alone', () => pricing.forCall(call));
}

void main();
