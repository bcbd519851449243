// Cost of the identity step per request, in-process (no HTTP), on this machine.
// Run: node_modules/.bin/node --require @swc-node/register libs/ingress/src/identity/identity.bench.ts
import { parseGatewayConfig, type GatewayConfig, type RouteConfig } from '@aigw/config';
import {
  jwtBenchRoutesYaml,
  LocalJwksServer,
  TestIssuer,
  type AsymmetricAlg,
} from '@aigw/testing/jwks';
import { CallerIdentifier } from './caller-identifier';

const ISSUER = 'https://bench.issuer';
const DURATION_MS = 2_000;

function load(jwksUri: string): GatewayConfig {
  const result = parseGatewayConfig(jwtBenchRoutesYaml(ISSUER, jwksUri), { env: {} });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

async function rate(label: string, run: () => unknown): Promise<void> {
  for (let i = 0; i < 1_000; i++) await run();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < DURATION_MS) {
    for (let i = 0; i < 100; i++) await run();
    n += 100;
  }
  const seconds = (performance.now() - start) / 1000;
  const perSecond = n / seconds;
  console.log(
    `${label.padEnd(46)} ${Math.round(perSecond).toString().padStart(9)}/s  ${(1e6 / perSecond).toFixed(2).padStart(8)} µs`,
  );
}

async function main(): Promise<void> {
  const jwks = await new LocalJwksServer().start();
  const config = load(jwks.url);
  const route = (name: string): RouteConfig => config.routes.find((r) => r.name === name)!;
  const headers = { 'x-user-id': 'alice', 'content-type': 'application/json' };

  const plain = new CallerIdentifier(() => config);
  await rate('no JWT: header identity (sync)', () => plain.identify(headers, route('open')));
  const value = { ok: true };
  await rate('reference: await of a plain value', async () => value);

  for (const alg of ['RS256', 'ES256', 'EdDSA'] as AsymmetricAlg[]) {
    const issuer = await TestIssuer.create(ISSUER, 'gw', alg);
    jwks.publish(issuer.publicJwk);
    const token = await issuer.sign({ sub: 'alice', plan: 'pro' });
    const request = { ...headers, authorization: `Bearer ${token}` };
    const cached = new CallerIdentifier(() => config);
    const uncached = new CallerIdentifier(() => config, { verifiedTokenMaxAgeMs: 0 });
    await rate(`${alg}: full verification (async)`, () =>
      uncached.identify(request, route('secured')),
    );
    await rate(`${alg}: token seen before (sync cache hit)`, () =>
      cached.identify(request, route('secured')),
    );
  }
  console.log(`JWKS fetches during the whole run: ${jwks.fetches}`);
  await jwks.stop();
}

void main();
