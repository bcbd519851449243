// `npm start` as the README gives it: build, then run the all-in-one gateway from dist/ on
// the quickstart config, with no keys and no external services.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { boundPortsFrom } from '@aigw/testing/processes';

const ROOT = resolve(__dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'aigw-npm-start-'));
// The build runs first, on a box other suites share: be generous.
const START_DEADLINE_MS = 180_000;

/** Everything that would make `npm start` use something other than the embedded defaults. */
const NOT_INHERITED = [
  'AI_GATEWAY_CONFIG',
  'AI_GATEWAY_SECRETS_DIR',
  'AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY',
  'REDIS_URL',
  'KAFKA_BROKERS',
  'CLICKHOUSE_URL',
];

function npmStart(): ChildProcess {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of NOT_INHERITED) delete env[name];
  return spawn('npm', ['start'], {
    cwd: ROOT,
    env: {
      ...env,
      PORT: '0',
      ADMIN_PORT: '0',
      HOST: '127.0.0.1',
      AI_GATEWAY_LOG_LEVEL: 'info',
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    },
    // Its own process group (npm, the shell, node), so the test can stop all of it.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Stops the whole process group: SIGTERM, then SIGKILL for whatever is left. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const gone = new Promise<void>((resolveGone) => {
    if (exited(child)) resolveGone();
    else child.once('exit', () => resolveGone());
  });
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // the group is already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
  // npm may exit before its child: make sure nothing of the group outlives the test.
  signal('SIGKILL');
}

describe('npm start', () => {
  let child: ChildProcess | undefined;
  after(async () => {
    if (child) await stopGroup(child);
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'builds, serves a chat completion from dist/ on the quickstart, and stops',
    { timeout: START_DEADLINE_MS + 60_000 },
    async () => {
      const startedAt = Date.now();
      child = npmStart();
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

      const deadline = startedAt + START_DEADLINE_MS;
      let ports = boundPortsFrom(output);
      while (!ports) {
        assert.ok(!exited(child), `npm start exited (${child.exitCode}):\n${output}`);
        assert.ok(Date.now() < deadline, `npm start did not listen in time:\n${output}`);
        await new Promise((resolveWait) => setTimeout(resolveWait, 100));
        ports = boundPortsFrom(output);
      }
      // What ran is the fresh build, not the sources.
      assert.match(output, /built \d+ files into dist\//);
      const main = join(ROOT, 'dist/apps/gateway/src/main.js');
      assert.ok(statSync(main).mtimeMs >= startedAt - 1000, `${main} was built by this run`);

      const health = await fetch(`http://127.0.0.1:${ports.adminPort}/healthz`);
      assert.equal(health.status, 200);

      const response = await fetch(`http://127.0.0.1:${ports.port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'Hello from npm start' }],
        }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      const body = (await response.json()) as {
        id: string;
        object: string;
        model: string;
        choices: { index: number; message: { role: string; content: string } }[];
        usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
      };
      assert.equal(body.object, 'chat.completion');
      assert.equal(body.model, 'gpt-4o-mini');
      assert.match(body.id, /^chatcmpl-/);
      assert.equal(body.choices[0]?.message.role, 'assistant');
      assert.match(body.choices[0]?.message.content ?? '', /Hello from npm start/);
      assert.ok(body.usage.total_tokens > 0);
      assert.equal(
        body.usage.total_tokens,
        body.usage.prompt_tokens + body.usage.completion_tokens,
      );

      await stopGroup(child);
      assert.ok(exited(child));
      await assert.rejects(
        fetch(`http://127.0.0.1:${ports.adminPort}/healthz`),
        'nothing of the gateway still listens',
      );
    },
  );
});
