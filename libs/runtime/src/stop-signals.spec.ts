import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handleStopSignals, REPEATED_STOP_WINDOW_MS } from './stop-signals';

/** The handlers' calls, in order, under a clock the test moves. */
function watched() {
  const calls: string[] = [];
  let clock = 0;
  const release = handleStopSignals(
    {
      stop: (signal) => calls.push(`stop ${signal}`),
      insist: (signal) => calls.push(`insist ${signal}`),
    },
    () => clock,
  );
  return { calls, release, advance: (ms: number) => (clock += ms) };
}

test('the first signal stops; a repeat within the window is the same stop, a later one insists', () => {
  const { calls, release, advance } = watched();
  try {
    process.emit('SIGTERM', 'SIGTERM');
    advance(REPEATED_STOP_WINDOW_MS - 1);
    process.emit('SIGTERM', 'SIGTERM'); // forwarded by npm, or systemd's copy
    process.emit('SIGINT', 'SIGINT');
    advance(1);
    process.emit('SIGINT', 'SIGINT');
    advance(5_000);
    process.emit('SIGTERM', 'SIGTERM');
    assert.deepEqual(calls, ['stop SIGTERM', 'insist SIGINT', 'insist SIGTERM']);
  } finally {
    release();
  }
});

test('once released, the signals are no longer handled', () => {
  const counts = () => [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
  const [ints, terms] = counts();
  const { calls, release } = watched();
  assert.deepEqual(counts(), [ints + 1, terms + 1]);
  release();
  assert.deepEqual(counts(), [ints, terms]);
  assert.deepEqual(calls, []);
});
