// For the watcher's specs: its reloads run on file events, polls and debounces, so a test
// waits for what it expects rather than for a fixed time.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `done` until it holds; fails the test, naming `what`, after five seconds. */
export async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(20);
  }
}
