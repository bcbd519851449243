import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A real process: Node's own warning printer, replaced, and warnings raised as they are in
// production (a negative timer from inside kafkajs, as its request queue sets one, kafkajs#1751).

const dir = mkdtempSync(join(tmpdir(), 'aigw-warnings-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const kafkajs = join(dir, 'node_modules', 'kafkajs', 'src', 'network', 'requestQueue');
mkdirSync(kafkajs, { recursive: true });
writeFileSync(
  join(kafkajs, 'index.js'),
  'module.exports = () => setTimeout(() => undefined, -17966);\n',
);

const script = `
const { Logger } = require(${JSON.stringify(join(__dirname, 'logger.ts'))});
const { logProcessWarnings } = require(${JSON.stringify(join(__dirname, 'process-warnings.ts'))});
if (process.env.ROUTED === '1') {
  logProcessWarnings(new Logger({ level: process.env.LEVEL, bindings: { app: 'router' } }));
}
// Node warns of the first negative timer only: kafkajs's, or one of the process's own.
if (process.env.OWN_TIMER === '1') setTimeout(() => undefined, -5);
else require(${JSON.stringify(kafkajs)})();
process.emitWarning('11 listeners added', { type: 'MaxListenersExceededWarning', code: 'W1' });
`;

function run(env: Record<string, string>, nodeArgs: readonly string[] = []) {
  const args = [...nodeArgs, '--require', '@swc-node/register', '-e', script];
  const result = spawnSync(process.execPath, args, {
    cwd: join(__dirname, '../../../..'),
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stderr);
  const lines = result.stdout.split('\n').filter((line) => line !== '');
  return {
    stderr: result.stderr,
    lines: lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('process warnings', () => {
  it("are Node's plain text on stderr without the logger (what a JSON log pipeline cannot read)", () => {
    const { stderr, lines } = run({});
    assert.match(stderr, /\(node:\d+\) TimeoutNegativeWarning: -17966 is a negative number/);
    assert.deepEqual(lines, []);
  });

  it('go through the JSON logger, one line each, and none to stderr', () => {
    const { stderr, lines } = run({ ROUTED: '1', LEVEL: 'debug' });
    assert.equal(stderr, '');
    const shown = lines.map(({ level, msg, type, code, message, app }) => ({
      level,
      msg,
      type,
      code,
      message: String(message).split('\n')[0],
      app,
    }));
    assert.deepEqual(shown, [
      {
        level: 'debug',
        msg: 'kafkajs set a negative timer (kafkajs#1751, harmless)',
        type: 'TimeoutNegativeWarning',
        code: undefined,
        message: '-17966 is a negative number.',
        app: 'router',
      },
      {
        level: 'warn',
        msg: 'process warning',
        type: 'MaxListenersExceededWarning',
        code: 'W1',
        message: '11 listeners added',
        app: 'router',
      },
    ]);
  });

  it("keep kafkajs's known one out of an info log, and every other warning in it", () => {
    const kafka = run({ ROUTED: '1', LEVEL: 'info' });
    assert.equal(kafka.stderr, '');
    assert.deepEqual(
      kafka.lines.map(({ level, type }) => [level, type]),
      [['warn', 'MaxListenersExceededWarning']],
    );
    // A negative timer of the process's own is not kafkajs's: a warning like any other.
    const own = run({ ROUTED: '1', LEVEL: 'info', OWN_TIMER: '1' });
    assert.equal(own.stderr, '');
    assert.deepEqual(
      own.lines.map(({ level, type, message }) => [level, type, String(message).split('\n')[0]]),
      [
        ['warn', 'TimeoutNegativeWarning', '-5 is a negative number.'],
        ['warn', 'MaxListenersExceededWarning', '11 listeners added'],
      ],
    );
  });

  it('stay silent where the operator silenced them (NODE_NO_WARNINGS=1)', () => {
    const { stderr, lines } = run({ ROUTED: '1', LEVEL: 'debug', NODE_NO_WARNINGS: '1' });
    assert.equal(stderr, '');
    assert.deepEqual(lines, []);
  });

  // Node's printer, not emitWarning, obeys --disable-warning: replacing it must too.
  it('stay silent where the operator disabled them by type or code (--disable-warning)', () => {
    const env = { ROUTED: '1', LEVEL: 'debug' };
    const byFlag = run({ ...env, NODE_OPTIONS: '--disable-warning="TimeoutNegativeWarning"' }, [
      '--disable-warning=W1',
    ]);
    assert.equal(byFlag.stderr, '');
    assert.deepEqual(byFlag.lines, []);
    const bySpacedFlag = run({ ...env, NODE_OPTIONS: '--disable-warning W1' }, [
      '--disable-warning',
      'TimeoutNegativeWarning',
    ]);
    assert.equal(bySpacedFlag.stderr, '');
    assert.deepEqual(bySpacedFlag.lines, []);
    // Another type or code than the one disabled is still logged.
    const other = run({ ...env, NODE_OPTIONS: '--disable-warning=W2' });
    assert.deepEqual(
      other.lines.map(({ type }) => type),
      ['TimeoutNegativeWarning', 'MaxListenersExceededWarning'],
    );
  });

  it('carry their stack where the operator asked for it (--trace-warnings), as Node prints it', () => {
    const env = { ROUTED: '1', LEVEL: 'info' };
    const plain = run(env);
    assert.deepEqual(
      plain.lines.map(({ stack }) => stack),
      [undefined],
    );
    const traced = run(env, ['--trace-warnings']);
    assert.equal(traced.stderr, '');
    assert.equal(traced.lines.length, 1);
    assert.match(
      String(traced.lines[0].stack),
      /^MaxListenersExceededWarning: 11 listeners added\n\s+at /,
    );
  });
});
