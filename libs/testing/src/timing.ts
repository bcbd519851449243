// For checks that hold only inside a time window (a key read before its TTL ends) or only
// once work off the request path has landed: the suites share a loaded 2-core machine, so
// a run may be paused for hundreds of milliseconds anywhere.
import assert from 'node:assert/strict';

/**
 * Runs `attempt` until a run keeps to its time window, and returns that run's readings.
 * `attempt` times itself and returns undefined when it overran (its readings then say
 * nothing about the code under test); it must not assert, so that an overrun is retried.
 */
export async function timelyRun<T>(
  what: string,
  attempt: () => Promise<T | undefined>,
  tries = 5,
): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const readings = await attempt();
    if (readings !== undefined) return readings;
  }
  assert.fail(`${what}: none of ${tries} runs kept to its time window`);
}

/**
 * Polls `probe` until it returns a value other than undefined. The deadline only bounds a
 * hang: it is far past anything a healthy run needs, however loaded the machine.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  { deadlineMs = 60_000, everyMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** `eventually` for a condition: polls until `holds` is true. */
export async function until(
  what: string,
  holds: () => Promise<boolean> | boolean,
  options?: { deadlineMs?: number; everyMs?: number },
): Promise<void> {
  await eventually(what, async () => ((await holds()) ? true : undefined), options);
}

const MINUTE_MS = 60_000;

/**
 * The clock minute a sequence starts in, with at least `marginMs` of it left (it waits
 * for the next minute otherwise). For limits that count per clock minute: a sequence that
 * crossed into the next minute saw its counts start over, and must be run again.
 */
export async function earlyInTheMinute(marginMs = 20_000): Promise<number> {
  const into = Date.now() % MINUTE_MS;
  if (into > MINUTE_MS - marginMs) {
    await new Promise((resolve) => setTimeout(resolve, MINUTE_MS - into + 50));
  }
  return clockMinute();
}

/** The clock minute now (minutes since the epoch). */
export function clockMinute(): number {
  return Math.floor(Date.now() / MINUTE_MS);
}
