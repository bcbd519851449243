import type Redis from 'ioredis';
import { defineLuaScript, luaReply } from '@aigw/infra';

/** Why a running call's lock could not be renewed. */
export type LockRenewalFailure =
  /** The lock no longer names this call (it lapsed, or a follower freed it): not taken back. */
  | 'lost'
  /** The renewal command failed (Redis away or silent); the next heartbeat tries again. */
  | 'error';

/** Deletes the lock only if it still names this flight (a successor may hold it). */
const ABANDON = defineLuaScript<[lock: string], [flightId: string], number>({
  name: 'dedup-abandon',
  keyCount: 1,
  decode: luaReply.integer,
  source: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
});

/**
 * Keeps a running call's lock: only while it still names this flight (1), never another's
 * (0), and only ever lengthened to the lease, never shortened (the window may run longer).
 */
const RENEW = defineLuaScript<[lock: string], [flightId: string, leaseMs: number], number>({
  name: 'dedup-renew',
  keyCount: 1,
  decode: luaReply.integer,
  source: `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`,
});

/**
 * At the end of a call with an answer to share: the lock (if still this flight's) lasts the
 * rest of the window, so late followers get that answer, or goes now if the window is over.
 */
const SETTLE = defineLuaScript<[lock: string], [flightId: string, restMs: number], number>({
  name: 'dedup-settle',
  keyCount: 1,
  decode: luaReply.integer,
  source: `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('DEL', KEYS[1])`,
});

/** Frees `lock` if it still names `flightId`; never rejects (a failure goes to `onError`). */
export function abandonLock(
  redis: Redis,
  lock: string,
  flightId: string,
  onError?: (what: string, error: unknown) => void,
): Promise<void> {
  return ABANDON.run(redis, [lock], [flightId]).then(
    () => undefined,
    (error: unknown) => onError?.('dedup abandon', error),
  );
}

export interface FlightLockOptions {
  readonly lock: string;
  readonly flightId: string;
  /** How long the lock outlives the leader's last renewal: a dead leader holds it no longer. */
  readonly leaseMs: number;
  /** When the call's window ends, by this process's clock. */
  readonly windowEndsAt: number;
  readonly onRenewalFailed?: (reason: LockRenewalFailure) => void;
  readonly onError?: (what: string, error: unknown) => void;
}

/**
 * A leader's hold on its key. Taken for the window, it lasts as long as the call runs: each
 * heartbeat renews it for `leaseMs` (compare-and-set: only while it still names this
 * flight), so a call longer than the window gets no second leader, and a leader that dies
 * holds it at most `leaseMs` past its last beat. At the call's end it lasts the rest of the
 * window (or goes), or is freed at once when the answer is not to be shared.
 */
export class FlightLock {
  /** The last renewal sent: the end waits for it, so none lands after the lock was settled. */
  private renewal?: Promise<void>;
  private lost = false;
  private ended = false;

  constructor(
    private readonly redis: Redis,
    private readonly options: FlightLockOptions,
  ) {}

  /** How long to take the lock for at first: the window, and never less than a lease. */
  get initialTtlMs(): number {
    return Math.max(1, this.options.windowEndsAt - Date.now(), this.options.leaseMs);
  }

  /** One heartbeat's renewal; skipped while the previous one is out (a slow Redis). */
  renew(): void {
    if (this.lost || this.ended || this.renewal) return;
    const { lock, flightId, leaseMs } = this.options;
    this.renewal = RENEW.run(this.redis, [lock], [flightId, leaseMs])
      .then(
        (held) => {
          if (held || this.ended) return;
          this.lost = true; // never taken back: whoever freed it meant the next caller to lead
          this.options.onRenewalFailed?.('lost');
        },
        (error: unknown) => {
          this.options.onError?.('dedup renew', error);
          if (!this.ended) this.options.onRenewalFailed?.('error');
        },
      )
      .finally(() => (this.renewal = undefined));
  }

  /** The call answered: late followers may join it for the rest of the window. */
  async settle(): Promise<void> {
    await this.end();
    const { lock, flightId, windowEndsAt } = this.options;
    const restMs = Math.max(0, windowEndsAt - Date.now());
    await SETTLE.run(this.redis, [lock], [flightId, restMs]).catch((error: unknown) =>
      this.options.onError?.('dedup settle', error),
    );
  }

  /** Frees the lock if it still names this flight (a failed or no-store call); never rejects. */
  async abandon(): Promise<void> {
    await this.end();
    await abandonLock(this.redis, this.options.lock, this.options.flightId, this.options.onError);
  }

  private async end(): Promise<void> {
    this.ended = true;
    await this.renewal;
  }
}
