// A JWT provider with no audiences accepts tokens minted for any audience: the service
// says so once at start-up, through its logger, naming the provider.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Logger } from '@aigw/observability';
import { loadServiceConfig } from './service-settings';

const dir = mkdtempSync(join(tmpdir(), 'aigw-jwt-audiences-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ROUTE = `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: local, provider: local}
`;

function policy(providers: string): string {
  return `---
kind: SecurityPolicy
metadata: {name: auth}
spec:
  targetRefs: [{kind: AIGatewayRoute, name: r}]
  jwt:
    providers:
${providers}`;
}

const provider = (name: string, extra = '') =>
  `    - {name: ${name}, issuer: https://${name}.example, remoteJWKS: {uri: https://${name}.example/jwks.json}${extra}}\n`;

async function startupLines(yaml: string): Promise<string[]> {
  const configPath = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(configPath, yaml);
  const lines: string[] = [];
  const logger = new Logger({ level: 'debug', write: (line) => lines.push(line) });
  const holder = await loadServiceConfig(
    { AI_GATEWAY_CONFIG: configPath },
    logger,
    () => undefined,
  );
  holder.close();
  return lines;
}

const audienceWarnings = (lines: string[]) => lines.filter((line) => /no audiences/.test(line));

describe('loadServiceConfig: JWT providers without audiences', () => {
  it('warns once, naming the provider, when a provider sets no audiences (or an empty list)', async () => {
    const lines = await startupLines(
      ROUTE +
        policy(
          provider('corp-sso') +
            provider('partner', ', audiences: []') +
            provider('api', ', audiences: [ai-gateway]'),
        ),
    );
    const warnings = audienceWarnings(lines);
    assert.equal(warnings.length, 2, lines.join('\n'));
    const [first, second] = warnings.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(first?.level, 'warn');
    assert.match(
      String(first?.msg),
      /^config: .*JWT provider "corp-sso" has no audiences: it accepts tokens its issuer made for any audience/,
    );
    assert.match(String(second?.msg), /JWT provider "partner" has no audiences/);
    assert.ok(!warnings.some((line) => line.includes('"api"')), warnings.join('\n'));
  });

  it('says nothing when every provider lists its audiences', async () => {
    const lines = await startupLines(
      ROUTE + policy(provider('api', ', audiences: [ai-gateway, batch]')),
    );
    assert.deepEqual(audienceWarnings(lines), []);
    assert.ok(lines.length > 0, 'the logger saw the load');
  });
});
