// A load written once as a generator that yields between pieces of work, run two ways:
// straight through (parseGatewayConfig: text in hand, synchronously) or in slices that
// give the event loop back between them (every file load: start-up, the CLI and a hot
// reload, so requests in flight are not held up by a large file).
// Both runs do the same work in the same order, so they give the same result.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Work that yields (nothing) at each point where it may pause, and returns a T. */
export type Steps<T> = Generator<void, T, void>;

/** Runs every step at once. */
export function runToEnd<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

export interface SliceOptions {
  /** How long a slice may run before the loop is given back; default 10 ms. */
  readonly sliceMs?: number;
  /** Milliseconds from some origin (tests pass a fake one). */
  readonly now?: () => number;
  /** Gives the loop back (tests count the pauses). */
  readonly pause?: () => Promise<unknown>;
}

/** The loop's budget per slice: a request waits at most about this long behind a reload. */
const DEFAULT_SLICE_MS = 10;

/** Runs the steps, pausing (a turn of the event loop) once a slice has run `sliceMs`. */
export async function runInSlices<T>(steps: Steps<T>, options: SliceOptions = {}): Promise<T> {
  const sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS;
  const now = options.now ?? (() => performance.now());
  const pause = options.pause ?? (() => nextTurn());
  let sliceStart = now();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (now() - sliceStart >= sliceMs) {
      await pause();
      sliceStart = now();
    }
  }
}
