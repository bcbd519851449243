import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freeLoopbackPort } from '@aigw/testing';
import { budgetRebuildOutcome, perUserBudgetConfig } from '@aigw/testing/processes';
import { catchUpWaitMs } from './rebuild-args';
import { REBUILD_EXIT } from './rebuild-log';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A config with a per-user budget, and the CLI run with it, its exit code kept on failure. */
function rebuildCli() {
  const { dir, config } = perUserBudgetConfig('aigw-rebuild-args-', 'm');
  dirs.push(dir);
  const cli = (env: Record<string, string>, ...args: string[]) =>
    budgetRebuildOutcome({ AI_GATEWAY_CONFIG: config, ...env }, ...args);
  return { dir, cli };
}

test('--catch-up-wait must be a number of seconds >= 0', () => {
  assert.deepEqual(catchUpWaitMs('30'), { ms: 30_000 });
  assert.deepEqual(catchUpWaitMs('0'), { ms: 0 });
  assert.deepEqual(catchUpWaitMs('1.5'), { ms: 1_500 });
  for (const bad of ['abc', '', ' ', '-5', '30s', 'Infinity']) {
    assert.ok('error' in catchUpWaitMs(bad), bad);
  }
});

// Each case is a fresh process compiling on the fly: slow on a loaded box.
test(
  'a data directory without an event log fails the rebuild (exit 2) and creates nothing',
  { timeout: 120_000 },
  async () => {
    const { dir, cli } = rebuildCli();
    const absent = join(dir, 'no-such-dir');
    const typo = await cli({ AI_GATEWAY_DATA_DIR: absent });
    assert.equal(typo.code, REBUILD_EXIT.failed, typo.stdout + typo.stderr);
    assert.match(typo.stderr, /no event log at .*no-such-dir.*events\.db/);
    assert.doesNotMatch(typo.stdout, /mismatches/);
    assert.equal(existsSync(absent), false, 'the mistyped directory was created');

    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const wrong = await cli({}, '--data-dir', empty, '--events-file', 'evnts.db');
    assert.equal(wrong.code, REBUILD_EXIT.failed, wrong.stdout + wrong.stderr);
    assert.match(wrong.stderr, /no event log at .*evnts\.db/);
    assert.deepEqual(readdirSync(empty), [], 'databases were created');
  },
);

test(
  'a --catch-up-wait that is not a number fails the run (exit 2) before anything is read',
  { timeout: 120_000 },
  async () => {
    const { dir, cli } = rebuildCli();
    const refused = await cli(
      { AI_GATEWAY_DATA_DIR: join(dir, 'data') },
      '--restore',
      '--catch-up-wait',
      'ten',
    );
    assert.equal(refused.code, REBUILD_EXIT.failed, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /--catch-up-wait: expected a number of seconds >= 0, got 'ten'/);
    assert.doesNotMatch(refused.stdout, /rebuilt|restored/);
  },
);

test(
  'an unreachable Redis fails the rebuild (exit 2) naming Redis, with no stack and no password',
  { timeout: 120_000 },
  async () => {
    const { cli } = rebuildCli();
    const down = await cli({
      REDIS_URL: `redis://ops:s3cret-pw@127.0.0.1:${await freeLoopbackPort()}`,
      KAFKA_BROKERS: `127.0.0.1:${await freeLoopbackPort()}`,
    });
    assert.equal(down.code, REBUILD_EXIT.failed, down.stdout + down.stderr);
    assert.match(down.stderr, /budget rebuild: Redis at 127\.0\.0\.1:\d+ did not answer/);
    assert.doesNotMatch(down.stderr, /Unhandled error event|\n\s+at /);
    assert.doesNotMatch(down.stdout + down.stderr, /s3cret-pw/);
  },
);
