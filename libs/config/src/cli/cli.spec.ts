// The real `ai-gateway` bin, spawned as a user would run it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

const ROOT = resolve(__dirname, '../../../..');
const BIN = join(ROOT, 'bin/ai-gateway.js');
const FIXTURES = join(ROOT, 'libs/config/test-fixtures');
const dir = mkdtempSync(join(tmpdir(), 'aigw-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  // Run from another directory: the bin must not depend on the working directory.
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('ai-gateway validate', () => {
  it('a valid file: notes, warnings, the OK summary, exit 0', () => {
    const { code, stdout, stderr } = run(
      ['validate', join(FIXTURES, 'spec-12-complete-agent-platform.route.yaml')],
      {
        AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-cli-secret',
        AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-cli-secret-2',
      },
    );
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^inferred: .*auth type APIKey inferred from apiKeyRef$/m);
    assert.match(
      stdout,
      /^OK: 2 documents, routes: agent-platform, virtual models: gpt-4-turbo, gpt-4$/m,
    );
    assert.equal(stdout.includes('sk-cli-secret'), false);
  });

  it('missing secrets: exit 1 by default, warnings with --allow-missing-secrets', () => {
    const file = join(FIXTURES, 'spec-03-priority-based-routing.route.yaml');
    const strict = run(['validate', file]);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /^error: .*secret "openai-key" key "apiKey" not found/m);
    const lenient = run(['validate', '--allow-missing-secrets', file]);
    assert.equal(lenient.code, 0, lenient.stderr);
    assert.match(
      lenient.stdout,
      /^warning: .*secret "openai-key" key "apiKey" not found .*; the backend is skipped until its key appears \(.*\)$/m,
    );
    assert.doesNotMatch(lenient.stdout, /unauthenticated/);
  });

  it('an invalid file: one line per error, no stack, exit 1', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'kind: Gateway\n---\ncaching: {ttl: 5}\n');
    const { code, stdout, stderr } = run(['validate', file]);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    const lines = stderr.trim().split('\n');
    assert.deepEqual(lines, [
      `error: ${file}:1: document 1 (Gateway): kind: unknown kind "Gateway": expected AIGatewayRoute or SecurityPolicy`,
      `error: ${file}:3: document 2 (AIGatewayRoute "default"): caching.ttl: expected a duration such as "500ms", "5s", "1m", "1h" or "30d"`,
      'INVALID: 2 errors',
    ]);
  });

  it("the spec's ServiceMonitor alone, or beside a route: a note, exit 0", () => {
    const lone = run(['validate', join(FIXTURES, 'spec-11-service-monitor.not-gateway.yaml')]);
    assert.equal(lone.code, 0, lone.stderr);
    assert.match(
      lone.stdout,
      /^note: .*document 1 \(ServiceMonitor "ai-gateway"\): skipped: ServiceMonitor is a Prometheus Operator resource for the cluster, not gateway configuration/m,
    );
    assert.match(
      lone.stdout,
      /^warning: .*\.yaml: no AIGatewayRoute left .*: no model is served$/m,
    );
    assert.match(lone.stdout, /^OK: 1 document \(1 skipped\), routes: \(none\)/m);

    const file = join(dir, 'with-monitor.yaml');
    writeFileSync(
      file,
      `${readFileSync(join(FIXTURES, 'spec-11-service-monitor.not-gateway.yaml'), 'utf8')}---\n` +
        'kind: AIGatewayRoute\nmetadata: {name: r}\nspec:\n  backends:\n  - {name: l, provider: local, model: m}\n',
    );
    const beside = run(['validate', file]);
    assert.equal(beside.code, 0, beside.stderr);
    assert.match(beside.stdout, /^note: .*skipped: ServiceMonitor/m);
    assert.match(beside.stdout, /^OK: 2 documents \(1 skipped\), routes: r, virtual models: m$/m);
  });

  it('malformed YAML and a missing file exit 1 with one line each', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'spec: [a, b\n');
    const broken = run(['validate', file]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /^error: .*broken\.yaml:\d+: document 1: YAML syntax error: /m);
    assert.doesNotMatch(broken.stderr, /\n\s+at /);
    const missing = run(['validate', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read config file: no such file/);
  });

  it('usage errors exit 2', () => {
    assert.equal(run([]).code, 2);
    assert.equal(run(['frobnicate']).code, 2);
    assert.equal(run(['validate']).code, 2);
    assert.equal(run(['validate', 'a.yaml', 'b.yaml']).code, 2);
    assert.equal(run(['validate', '--strict', 'a.yaml']).code, 2);
    const help = run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /usage: ai-gateway validate/);
  });
});

describe('the ai-gateway bin of the root package', () => {
  it("package.json's bin maps ai-gateway to the file these tests run", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      bin?: Record<string, string>;
    };
    assert.equal(resolve(ROOT, pkg.bin?.['ai-gateway'] ?? ''), BIN);
  });

  it('runs through npm exec ai-gateway -- validate FILE', () => {
    // --offline: were the bin not found locally, npm would fetch a registry package of
    // that name and run it; offline it fails instead. A fresh cache keeps it hermetic.
    const result = spawnSync(
      'npm',
      [
        'exec',
        '--offline',
        '--cache',
        join(dir, 'npm-cache'),
        'ai-gateway',
        '--',
        'validate',
        join(FIXTURES, 'spec-12-complete-agent-platform.route.yaml'),
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-npm-exec-secret',
          AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-npm-exec-secret-2',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      /^OK: 2 documents, routes: agent-platform, virtual models: gpt-4-turbo, gpt-4$/m,
    );
    assert.equal(result.stdout.includes('sk-npm-exec-secret'), false);
  });
});
