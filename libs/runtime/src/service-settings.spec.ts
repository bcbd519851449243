// How each service process loads its config's secrets: the split router reads none.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Logger } from '@aigw/observability';
import { loadServiceConfig, type Env, type ServiceConfigOptions } from './service-settings';

const dir = mkdtempSync(join(tmpdir(), 'aigw-service-settings-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const configPath = join(dir, 'gateway.yaml');
writeFileSync(
  configPath,
  `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: openai-main, provider: openai, model: gpt-4o, auth: {apiKeyRef: {name: openai-key}}}
`,
);

async function load(env: Env, options: ServiceConfigOptions) {
  const lines: string[] = [];
  const logger = new Logger({ level: 'debug', write: (line) => lines.push(line) });
  const holder = await loadServiceConfig(
    { AI_GATEWAY_CONFIG: configPath, ...env },
    logger,
    () => undefined,
    options,
  );
  holder.close();
  return { holder, lines };
}

describe('loadServiceConfig: provider secrets', () => {
  it('refuses to start without a key by default (the gateway and the provider-adapter)', async () => {
    await assert.rejects(load({}, {}), /secret "openai-key" key "apiKey" not found/);
  });

  it('not-needed (the split router) starts without the key, silently, whatever the env says', async () => {
    const { holder, lines } = await load(
      { AI_GATEWAY_MISSING_SECRETS: 'error' },
      {
        missingSecrets: 'not-needed',
      },
    );
    assert.equal(holder.settings.missingSecrets, 'not-needed');
    const auth = holder.current().routes[0].backends[0].auth;
    assert.ok(auth.kind === 'apiKey' && auth.apiKey === undefined && auth.keyHeldElsewhere);
    assert.ok(!lines.some((line) => /secret|unauthenticated/i.test(line)), lines.join('\n'));
  });

  it('not-needed leaves a key in the environment unread', async () => {
    const { holder } = await load(
      { AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-router-must-not-hold' },
      { missingSecrets: 'not-needed' },
    );
    const auth = holder.current().routes[0].backends[0].auth;
    assert.ok(auth.kind === 'apiKey' && auth.apiKey === undefined);
  });

  it('still checks AI_GATEWAY_MISSING_SECRETS under not-needed', async () => {
    await assert.rejects(
      load({ AI_GATEWAY_MISSING_SECRETS: 'never' }, { missingSecrets: 'not-needed' }),
      /AI_GATEWAY_MISSING_SECRETS must be "error" or "warn", got "never"/,
    );
  });
});
