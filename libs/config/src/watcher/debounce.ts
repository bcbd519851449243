// A debounce with a maximum wait: a burst of triggers fires once, `delayMs` after the last
// one, but never later than `maxWaitMs` after the first, so a source that never goes quiet
// (a busy directory) still gets looked at.
import { performance } from 'node:perf_hooks';

export class Debouncer {
  readonly #fire: () => void;
  readonly #delayMs: number;
  readonly #maxWaitMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** When the first trigger of the pending burst came; undefined when none is pending. */
  #burstStart: number | undefined;

  constructor(fire: () => void, delayMs: number, maxWaitMs: number) {
    this.#fire = fire;
    this.#delayMs = delayMs;
    this.#maxWaitMs = Math.max(delayMs, maxWaitMs);
  }

  trigger(): void {
    const now = performance.now();
    this.#burstStart ??= now;
    const untilMax = this.#burstStart + this.#maxWaitMs - now;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => {
        this.cancel();
        this.#fire();
      },
      Math.max(0, Math.min(this.#delayMs, untilMax)),
    );
    this.#timer.unref();
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#burstStart = undefined;
  }
}
