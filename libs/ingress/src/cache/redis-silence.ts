import type Redis from 'ioredis';

/** How ioredis rejects a command that got no reply within the client's `commandTimeout`. */
const TIMED_OUT = 'Command timed out';

/** Between two probes of a Redis that did not answer (a failed probe may fail at once). */
const PROBE_PAUSE_MS = 250;

/** A request-path command not sent: its Redis is known to be silent. */
export class RedisSilentError extends Error {
  override name = 'RedisSilentError';

  constructor() {
    super('Redis is not answering: the command was not sent');
  }
}

/**
 * Whether a cache or deduplication Redis connection is silent: a command got no reply within
 * the command timeout and nothing has answered since (Redis stalled, or the network drops
 * its packets without a reset, which leaves the connection open for many minutes). While
 * it is, the request path's commands (a cache lookup, joining or leading a shared call) fail
 * at once, so a request waits out one timeout at most rather than one per command, and the
 * requests after it none. One PING at a time asks whether Redis answers again: sent on the
 * same connection, its reply comes after those of the commands that timed out, so once it
 * comes Redis is answering everything again. A command that timed out during an event-loop
 * stall (Redis fine) ends it at once. Commands of a call already shared (its events, its
 * lock) are not held back: a reply that is only late still lets them land.
 */
export class RedisSilence {
  private quiet = false;

  constructor(private readonly redis: Pick<Redis, 'ping' | 'status'>) {}

  get silent(): boolean {
    return this.quiet;
  }

  /** Runs `command`, or fails at once with RedisSilentError while Redis is silent. */
  async run<T>(command: () => Promise<T>): Promise<T> {
    if (this.quiet) throw new RedisSilentError();
    try {
      return await command();
    } catch (error) {
      if (error instanceof Error && error.message === TIMED_OUT) this.heardNothing();
      throw error;
    }
  }

  private heardNothing(): void {
    if (this.quiet) return;
    this.quiet = true;
    void this.probe();
  }

  private async probe(): Promise<void> {
    while (this.quiet) {
      // Closed for good: nothing will answer, nor ask.
      if (this.redis.status === 'end') return;
      try {
        await this.redis.ping();
        this.quiet = false;
      } catch {
        // Timed out again, or failed at once while disconnected (reconnecting): ask again.
        await new Promise((resolve) => setTimeout(resolve, PROBE_PAUSE_MS).unref());
      }
    }
  }
}

const silences = new WeakMap<object, RedisSilence>();

/** The silence of `redis`'s connection, shared by the cache and deduplication using it. */
export function redisSilence(redis: Pick<Redis, 'ping' | 'status'>): RedisSilence {
  let silence = silences.get(redis);
  if (!silence) {
    silence = new RedisSilence(redis);
    silences.set(redis, silence);
  }
  return silence;
}

/** Whether `redis` is known silent (false for a client no request path has used). */
export function isSilent(redis: object): boolean {
  return silences.get(redis)?.silent ?? false;
}
