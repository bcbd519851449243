import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// A real process crashing as a bug would crash it: an exception nothing caught, or a rejection
// nothing handled.

const script = `
const { Logger } = require(${JSON.stringify(join(__dirname, 'logger.ts'))});
const { logProcessCrashes } = require(${JSON.stringify(join(__dirname, 'process-crashes.ts'))});
if (process.env.ROUTED === '1') {
  logProcessCrashes(new Logger({ bindings: { app: 'gateway' } }));
}
const cause = new Error('cannot reach redis://default:hunter2-secret@redis:6379');
if (process.env.REJECT === '1') Promise.reject(cause);
else setImmediate(() => { throw cause; });
`;

function run(env: Record<string, string>) {
  const args = ['--require', '@swc-node/register', '-e', script];
  const result = spawnSync(process.execPath, args, {
    cwd: join(__dirname, '../../../..'),
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  const lines = result.stdout.split('\n').filter((line) => line !== '');
  return {
    status: result.status,
    stderr: result.stderr,
    lines: lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('process crashes', () => {
  it("are Node's plain text on stderr without the logger, password and all", () => {
    const { status, stderr, lines } = run({});
    assert.equal(status, 1);
    assert.match(stderr, /hunter2-secret/);
    assert.deepEqual(lines, []);
  });

  for (const [how, env] of [
    ['an exception nothing caught', {}],
    ['a rejection nothing handled', { REJECT: '1' }],
  ] as const) {
    it(`${how}: one fatal JSON line, redacted, nothing on stderr, exit code 1`, () => {
      const { status, stderr, lines } = run({ ROUTED: '1', ...env });
      assert.equal(status, 1);
      assert.equal(stderr, '');
      assert.equal(lines.length, 1);
      const [line] = lines;
      assert.equal(line.level, 'fatal');
      assert.equal(line.app, 'gateway');
      assert.match(String(line.msg), /process crashed/);
      const err = line.err as { message: string; stack: string };
      assert.match(err.message, /cannot reach redis:\/\//);
      assert.match(err.stack, /at /);
      assert.doesNotMatch(JSON.stringify(line), /hunter2-secret/);
    });
  }
});
