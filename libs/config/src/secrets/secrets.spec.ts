// Secret resolution (directory layout, environment naming) and redaction everywhere.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, describe, it } from 'node:test';
import { Secret } from '../domain/secret';
import { parseGatewayConfig } from '../loader/load-config';
import { resolveSecret, secretEnvVarName } from './secret-resolver';

const SECRET_VALUE = 'sk-test-DO-NOT-PRINT-4f9a';
const dir = mkdtempSync(join(tmpdir(), 'aigw-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ROUTE = (auth: string) =>
  `apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: r\nspec:\n  backends:\n  - name: openai-main\n    model: gpt-4\n    auth: ${auth}\n`;

describe('secretEnvVarName', () => {
  it('upper-cases and turns every non-alphanumeric into _', () => {
    assert.equal(
      secretEnvVarName({ name: 'openai-key', key: 'apiKey' }),
      'AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY',
    );
    assert.equal(
      secretEnvVarName({ name: 'llm-credentials', key: 'openai-api-key' }),
      'AI_GATEWAY_SECRET_LLM_CREDENTIALS_OPENAI_API_KEY',
    );
    assert.equal(secretEnvVarName({ name: 'a.b', key: 'c--d' }), 'AI_GATEWAY_SECRET_A_B_C__D');
  });
});

describe('resolveSecret', () => {
  mkdirSync(join(dir, 'openai-key'));
  writeFileSync(join(dir, 'openai-key', 'apiKey'), `${SECRET_VALUE}\n`);
  mkdirSync(join(dir, 'llm-credentials'));
  writeFileSync(join(dir, 'llm-credentials', 'openai-api-key'), 'from-file');
  writeFileSync(join(dir, 'llm-credentials', 'empty'), '\n');

  it('reads <dir>/<name>/<key> and drops the trailing newline', () => {
    const found = resolveSecret(
      { name: 'openai-key', key: 'apiKey' },
      { secretsDir: dir, env: {} },
    );
    assert.ok(found.found);
    assert.equal(found.secret.reveal(), SECRET_VALUE);
    assert.equal(found.from, 'file');
  });

  it('drops a byte-order mark and surrounding spaces, in a file and in the environment', () => {
    // A key file saved by Notepad starts with a BOM; one typed by hand may end in a space.
    // Sent on as they are, every call's Authorization header was refused.
    mkdirSync(join(dir, 'notepad-key'));
    writeFileSync(join(dir, 'notepad-key', 'apiKey'), `\uFEFF${SECRET_VALUE} \r\n`);
    const fromFile = resolveSecret(
      { name: 'notepad-key', key: 'apiKey' },
      { secretsDir: dir, env: {} },
    );
    assert.ok(fromFile.found && fromFile.secret.reveal() === SECRET_VALUE);
    const env = { AI_GATEWAY_SECRET_PADDED_APIKEY: ` ${SECRET_VALUE}\t` };
    const fromEnv = resolveSecret({ name: 'padded', key: 'apiKey' }, { env });
    assert.ok(fromEnv.found && fromEnv.secret.reveal() === SECRET_VALUE);
    const blank = resolveSecret(
      { name: 'blank', key: 'apiKey' },
      { env: { AI_GATEWAY_SECRET_BLANK_APIKEY: ' \n' } },
    );
    assert.equal(blank.found, false, 'only spaces is missing');
  });

  it('the file wins over the environment; the environment is the fallback', () => {
    const env = {
      AI_GATEWAY_SECRET_LLM_CREDENTIALS_OPENAI_API_KEY: 'from-env',
      AI_GATEWAY_SECRET_OTHER_APIKEY: 'env-only',
    };
    const file = resolveSecret(
      { name: 'llm-credentials', key: 'openai-api-key' },
      { secretsDir: dir, env },
    );
    assert.ok(file.found && file.secret.reveal() === 'from-file');
    const fromEnv = resolveSecret({ name: 'other', key: 'apiKey' }, { secretsDir: dir, env });
    assert.ok(fromEnv.found && fromEnv.from === 'env' && fromEnv.secret.reveal() === 'env-only');
  });

  it('an empty file is missing, and the reason says where it looked', () => {
    const miss = resolveSecret(
      { name: 'llm-credentials', key: 'empty' },
      { secretsDir: dir, env: {} },
    );
    assert.ok(!miss.found);
    assert.match(miss.reason, /llm-credentials\/empty \(empty\)/);
    assert.match(miss.reason, /AI_GATEWAY_SECRET_LLM_CREDENTIALS_EMPTY/);
  });

  it('the key defaults to apiKey in the config', () => {
    const result = parseGatewayConfig(ROUTE('{apiKeyRef: {name: openai-key}}'), {
      secretsDir: dir,
      env: {},
    });
    assert.ok(result.ok);
    const auth = result.config.routes[0].backends[0].auth;
    assert.ok(auth.kind === 'apiKey');
    assert.deepEqual(auth.secretRef, { name: 'openai-key', key: 'apiKey' });
    assert.equal(auth.apiKey?.reveal(), SECRET_VALUE);
  });

  it('secret names cannot escape the secrets directory', () => {
    const result = parseGatewayConfig(ROUTE('{apiKeyRef: {name: "..", key: "passwd"}}'), {
      secretsDir: dir,
      env: {},
    });
    assert.ok(!result.ok);
    assert.match(
      result.errors[0].format(),
      /spec\.backends\[0\]\.auth\.apiKeyRef\.name: expected a name of letters/,
    );
  });
});

describe('missing secret', () => {
  const text = ROUTE('{type: APIKey, apiKeyRef: {name: nowhere}}');

  it('strict (the default): an error naming the backend, the ref and where it looked', () => {
    const result = parseGatewayConfig(text, { env: {} });
    assert.ok(!result.ok);
    assert.equal(result.errors.length, 1);
    assert.equal(
      result.errors[0].format(),
      '9: document 1 (AIGatewayRoute "r"): spec.backends[0].auth.apiKeyRef: backend "openai-main": secret "nowhere" key "apiKey" not found (looked in environment variable AI_GATEWAY_SECRET_NOWHERE_APIKEY)',
    );
  });

  it('lenient: a warning that the backend is skipped until its key appears', () => {
    const result = parseGatewayConfig(text, { env: {}, missingSecrets: 'warn' });
    assert.ok(result.ok);
    const auth = result.config.routes[0].backends[0].auth;
    assert.ok(auth.kind === 'apiKey' && auth.apiKey === undefined);
    assert.equal(result.warnings.length, 1);
    assert.match(
      result.warnings[0],
      /secret "nowhere" key "apiKey" not found .*; the backend is skipped until its key appears \(environment variables are read at start: restart with it set, or use AI_GATEWAY_SECRETS_DIR\)$/,
    );
    assert.doesNotMatch(result.warnings[0], /unauthenticated/);
  });

  it('lenient with a secrets directory: the warning says the directory is watched', () => {
    const result = parseGatewayConfig(text, {
      env: {},
      missingSecrets: 'warn',
      secretsDir: '/nonexistent-secrets',
    });
    assert.ok(result.ok);
    assert.match(
      result.warnings[0] ?? '',
      /looked in file \/nonexistent-secrets\/nowhere\/apiKey, .*; the backend is skipped until its key appears \(the secrets directory is watched\)$/,
    );
  });

  it('apiKeyRef.optional: a missing key is a warning even under the strict default', () => {
    const result = parseGatewayConfig(ROUTE('{apiKeyRef: {name: nowhere, optional: true}}'), {
      env: {},
    });
    assert.ok(result.ok);
    const auth = result.config.routes[0].backends[0].auth;
    assert.ok(auth.kind === 'apiKey' && auth.apiKey === undefined);
    assert.match(result.warnings[0] ?? '', /the backend is skipped until its key appears/);
    const present = parseGatewayConfig(ROUTE('{apiKeyRef: {name: here, optional: true}}'), {
      env: { AI_GATEWAY_SECRET_HERE_APIKEY: 'sk-optional-present' },
    });
    assert.ok(present.ok);
    const held = present.config.routes[0].backends[0].auth;
    assert.ok(held.kind === 'apiKey' && held.apiKey?.reveal() === 'sk-optional-present');
    assert.deepEqual(present.warnings, []);
  });

  it('apiKeyRef.optional must be a boolean; optional: false is the strict default', () => {
    const wrong = parseGatewayConfig(ROUTE('{apiKeyRef: {name: nowhere, optional: "yes"}}'), {
      env: {},
    });
    assert.ok(!wrong.ok);
    assert.match(wrong.errors[0].format(), /auth\.apiKeyRef\.optional: expected true or false/);
    const strict = parseGatewayConfig(ROUTE('{apiKeyRef: {name: nowhere, optional: false}}'), {
      env: {},
    });
    assert.ok(!strict.ok);
    assert.match(strict.errors[0].format(), /secret "nowhere" key "apiKey" not found/);
  });

  it('not-needed (the split router): no key, header and ref kept, nothing reported', () => {
    const result = parseGatewayConfig(text, { env: {}, missingSecrets: 'not-needed' });
    assert.ok(result.ok);
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(result.config.routes[0].backends[0].auth, {
      kind: 'apiKey',
      headerName: 'Authorization',
      headerPrefix: 'Bearer ',
      secretRef: { name: 'nowhere', key: 'apiKey' },
      keyHeldElsewhere: true,
    });
  });

  it('not-needed leaves a key this process could read unread', () => {
    const env = { AI_GATEWAY_SECRET_NOWHERE_APIKEY: SECRET_VALUE };
    const result = parseGatewayConfig(text, { env, secretsDir: dir, missingSecrets: 'not-needed' });
    assert.ok(result.ok);
    const auth = result.config.routes[0].backends[0].auth;
    assert.ok(auth.kind === 'apiKey' && auth.apiKey === undefined && auth.keyHeldElsewhere);
    assert.ok(!JSON.stringify(result.config).includes(SECRET_VALUE));
  });
});

describe('redaction', () => {
  it('Secret prints as [REDACTED] everywhere but reveal()', () => {
    const secret = new Secret(SECRET_VALUE);
    assert.equal(String(secret), '[REDACTED]');
    // Deliberately interpolated: that is exactly the accident this guards against.
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions
    assert.equal(`${secret}`, '[REDACTED]');
    assert.equal(JSON.stringify({ secret }), '{"secret":"[REDACTED]"}');
    assert.equal(inspect(secret), '[REDACTED]');
    assert.equal(inspect({ deep: { secret } }, { depth: 5 }).includes(SECRET_VALUE), false);
    assert.equal(Object.keys(secret).length, 0);
    assert.equal(secret.reveal(), SECRET_VALUE);
  });

  it('a loaded secret never shows in notes, warnings, JSON or inspect of the config', () => {
    const result = parseGatewayConfig(ROUTE('{apiKeyRef: {name: openai-key}}'), {
      secretsDir: dir,
      env: {},
    });
    assert.ok(result.ok);
    const everything = [
      ...result.warnings,
      ...result.inferences,
      JSON.stringify(result.config),
      inspect(result.config, { depth: 20 }),
    ].join('\n');
    assert.equal(everything.includes(SECRET_VALUE), false);
    assert.match(JSON.stringify(result.config), /"apiKey":"\[REDACTED\]"/);
  });

  it('errors in a file that holds a secret elsewhere do not leak it', () => {
    const env = { AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: SECRET_VALUE };
    const text = `${ROUTE('{apiKeyRef: {name: openai-key}}')}  caching:\n    ttl: "${SECRET_VALUE}"\n`;
    const result = parseGatewayConfig(text, { env });
    assert.ok(!result.ok);
    assert.equal(
      result.errors
        .map((e) => e.format())
        .join('\n')
        .includes(SECRET_VALUE),
      false,
    );
    assert.equal(JSON.stringify(result.errors).includes(SECRET_VALUE), false);
  });
});
