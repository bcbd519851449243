import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { DataPlaneError, DataPlaneErrorCode, type GatewayAnswer } from '@aigw/contracts/data-plane';
import { defineLuaScript, luaReply, queueOnlyUntilFirstReady } from '@aigw/infra';
import { Flight, flightError, pumpIntoFlight, type FlightEvent } from './domain/flight';
import {
  DEFAULT_FLIGHT_MEMORY,
  LocalFlights,
  type FlightCoordinator,
  type FlightMemoryLimits,
  type LeadOutcome,
  type LeadingFlight,
} from './domain/flight-coordinator';

const PREFIX = 'aigw:dd:v1:';
const lockKey = (key: string) => `${PREFIX}{${key}}:lock`;
const streamKey = (key: string, flightId: string) => `${PREFIX}{${key}}:s:${flightId}`;

/** Deletes the lock only if it still names this flight (a successor may hold it). */
const ABANDON = defineLuaScript<[lock: string], [flightId: string], number>({
  name: 'dedup-abandon',
  keyCount: 1,
  decode: luaReply.integer,
  source: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
});

export interface RedisFlightOptions {
  /** How often a leader says it is alive while its call runs. */
  readonly beatMs?: number;
  /** Silence after which followers give up on a leader (its replica died). */
  readonly leaderTimeoutMs?: number;
  /** How long a finished call's events stay readable after its last write, past the window. */
  readonly graceMs?: number;
  /** Longest a follower's read blocks before it checks for new followers and silence. */
  readonly blockMs?: number;
  /** Finished answers kept in this process for its late followers (the stream has them too). */
  readonly memory?: FlightMemoryLimits;
  readonly onError?: (what: string, error: unknown) => void;
}

interface Follow {
  readonly key: string;
  readonly flightId: string;
  readonly flight: Flight;
  lastId: string;
  lastSeenAt: number;
}

/**
 * Deduplication across replicas through Redis. The first caller takes a lock
 * (`SET NX PX window`) naming a fresh flight id, calls upstream, and appends the call's
 * events to a Redis Stream for that flight (batched per tick, expiring `window + grace`
 * after the last write), with a heartbeat while it runs. Callers on any replica that find
 * the lock read the stream from its first entry (`XREAD` from id 0), so late joiners get
 * the whole answer. One blocking reader connection per process serves every followed
 * flight; a follower hears nothing for `leaderTimeoutMs` only if the leader's replica is
 * gone, and then gets an explicit error, never a hang. Callers on the same replica share
 * the flight in memory. Any Redis failure degrades to an undeduplicated call.
 */
export class RedisFlightCoordinator implements FlightCoordinator {
  private readonly local: LocalFlights;
  private readonly follows = new Map<string, Follow>();
  private readonly beatMs: number;
  private readonly leaderTimeoutMs: number;
  private readonly graceMs: number;
  private readonly blockMs: number;
  private reader?: Redis;
  private readerId?: string;
  private loop?: Promise<void>;
  private blocked = false;
  private closed = false;
  private readonly beats = new Set<NodeJS.Timeout>();

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisFlightOptions = {},
  ) {
    this.beatMs = options.beatMs ?? 1_000;
    this.leaderTimeoutMs = options.leaderTimeoutMs ?? 10_000;
    this.graceMs = options.graceMs ?? 60_000;
    this.blockMs = options.blockMs ?? 500;
    this.local = new LocalFlights(Date.now, options.memory ?? DEFAULT_FLIGHT_MEMORY);
  }

  async join(key: string): Promise<Flight | undefined> {
    const known = this.local.get(key);
    if (known) return known;
    let found: [string | null, number] | undefined;
    try {
      const replies = await this.redis.multi().get(lockKey(key)).pttl(lockKey(key)).exec();
      found = [(replies?.[0]?.[1] as string | null) ?? null, Number(replies?.[1]?.[1] ?? 0)];
    } catch (error) {
      this.options.onError?.('dedup lookup', error);
      return undefined;
    }
    const [flightId, ttl] = found;
    if (!flightId) return undefined;
    return this.follow(key, flightId, ttl);
  }

  async lead(key: string, windowMs: number, retain = true): Promise<LeadOutcome> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const known = this.local.get(key);
      if (known) return { follower: known };
      const flightId = randomUUID();
      let taken: string | null;
      try {
        taken = await this.redis.set(lockKey(key), flightId, 'PX', Math.max(1, windowMs), 'NX');
      } catch (error) {
        this.options.onError?.('dedup lock', error);
        return { leader: solo() };
      }
      if (taken === 'OK') {
        const flight = new Flight();
        flight.retained = retain;
        this.local.put(key, flight, windowMs);
        return { leader: this.leading(key, flightId, flight, windowMs) };
      }
      const running = await this.join(key);
      if (running) return { follower: running };
      // The lock expired between our two calls: try to take it again.
    }
    return { leader: solo() };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const follow of this.follows.values()) {
      follow.flight.append(
        flightError(
          new DataPlaneError(DataPlaneErrorCode.Internal, 'the gateway is shutting down'),
        ),
      );
    }
    this.follows.clear();
    for (const beat of this.beats) clearInterval(beat);
    this.beats.clear();
    this.reader?.disconnect();
  }

  private leading(key: string, flightId: string, flight: Flight, windowMs: number): LeadingFlight {
    const stream = streamKey(key, flightId);
    const keepMs = windowMs + this.graceMs;
    let pending: string[] = [];
    let scheduled = false;
    const write = (fields: string[]) => {
      this.redis
        .multi()
        .xadd(stream, '*', ...fields)
        .pexpire(stream, keepMs)
        .exec()
        .catch((error: unknown) => this.options.onError?.('dedup publish', error));
    };
    const flush = () => {
      scheduled = false;
      if (pending.length === 0) return;
      write(['e', `[${pending.join(',')}]`]);
      pending = [];
    };
    const remote = {
      append: (event: FlightEvent) => {
        flight.append(event);
        pending.push(JSON.stringify(event));
        if (!scheduled) {
          scheduled = true;
          // Everything appended in one tick travels in one entry.
          setImmediate(flush);
        }
      },
    };
    return {
      flight,
      run: async (call: Promise<GatewayAnswer>) => {
        // The first entry: followers know the leader is alive, and whether to keep the answer.
        write(flight.retained ? ['b', '1'] : ['b', '1', 'r', '0']);
        const beat = setInterval(() => write(['b', '1']), this.beatMs);
        beat.unref();
        this.beats.add(beat);
        try {
          await pumpIntoFlight(call, remote);
        } finally {
          clearInterval(beat);
          this.beats.delete(beat);
          flush();
        }
        // A failed call is no answer to share, nor one whose leader said no-store: freed after
        // its end was written (one connection keeps the order), so the next identical
        // request on any replica calls. A no-store answer's stream stays only as long as a
        // follower already on it may take to read it.
        if (!flight.retained) {
          this.redis
            .pexpire(stream, this.leaderTimeoutMs)
            .catch((error: unknown) => this.options.onError?.('dedup expire', error));
        }
        if (flight.failed || !flight.retained) {
          await ABANDON.run(this.redis, [lockKey(key)], [flightId]).catch((error: unknown) =>
            this.options.onError?.('dedup abandon', error),
          );
        }
      },
    };
  }

  private follow(key: string, flightId: string, ttlMs: number): Flight {
    const stream = streamKey(key, flightId);
    const existing = this.follows.get(stream);
    if (existing) return existing.flight;
    const flight = new Flight();
    if (ttlMs > 0) this.local.put(key, flight, ttlMs);
    this.follows.set(stream, { key, flightId, flight, lastId: '0', lastSeenAt: Date.now() });
    this.wakeReader();
    return flight;
  }

  private wakeReader(): void {
    if (this.closed) return;
    if (!this.loop) {
      this.loop = this.readLoop();
      return;
    }
    // A blocked read does not know the new stream yet: end its wait now.
    if (this.blocked && this.readerId !== undefined) {
      this.redis
        .call('CLIENT', 'UNBLOCK', this.readerId)
        .catch((error: unknown) => this.options.onError?.('dedup wake', error));
    }
  }

  private async readLoop(): Promise<void> {
    while (!this.closed && this.follows.size > 0) {
      try {
        const reader = await this.readerConnection();
        const follows = [...this.follows.entries()];
        this.blocked = true;
        const reply = await reader.call(
          'XREAD',
          'BLOCK',
          String(this.blockMs),
          'STREAMS',
          ...follows.map(([stream]) => stream),
          ...follows.map(([, follow]) => follow.lastId),
        );
        this.blocked = false;
        this.deliver(reply);
      } catch (error) {
        this.blocked = false;
        if (this.closed) break;
        this.options.onError?.('dedup read', error);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await this.expireSilent();
    }
    this.loop = undefined;
  }

  private async readerConnection(): Promise<Redis> {
    if (!this.reader) {
      // Its own first connect is waited for, as the main client's was.
      const reader = queueOnlyUntilFirstReady(this.redis.duplicate({ enableOfflineQueue: true }));
      reader.on('error', (error: Error) => this.options.onError?.('dedup reader', error));
      // A reconnected client has a new id.
      reader.on('ready', () => (this.readerId = undefined));
      this.reader = reader;
    }
    if (this.readerId === undefined) this.readerId = String(await this.reader.call('CLIENT', 'ID'));
    return this.reader;
  }

  private deliver(reply: unknown): void {
    if (!Array.isArray(reply)) return; // timed out, or woken for a new stream
    const now = Date.now();
    for (const [stream, entries] of streamReplies(reply)) {
      const follow = this.follows.get(stream);
      if (!follow) continue;
      for (const [id, fields] of entries) {
        follow.lastId = id;
        follow.lastSeenAt = now;
        for (let i = 0; i + 1 < fields.length; i += 2) {
          if (fields[i] === 'r' && fields[i + 1] === '0') follow.flight.retained = false;
          if (fields[i] !== 'e') continue;
          for (const event of JSON.parse(fields[i + 1]) as FlightEvent[])
            follow.flight.append(event);
        }
      }
      if (follow.flight.finished) this.follows.delete(stream);
    }
  }

  /** A leader silent for too long is gone: the key is freed, then its followers get an error. */
  private async expireSilent(): Promise<void> {
    const now = Date.now();
    for (const [stream, follow] of this.follows) {
      if (now - follow.lastSeenAt <= this.leaderTimeoutMs) continue;
      this.follows.delete(stream);
      // Freed first, so a caller that retries on the error leads a new call.
      await ABANDON.run(this.redis, [lockKey(follow.key)], [follow.flightId]).catch(
        (error: unknown) => this.options.onError?.('dedup abandon', error),
      );
      follow.flight.append(
        flightError(
          new DataPlaneError(
            DataPlaneErrorCode.UpstreamError,
            'the gateway replica making this shared upstream call stopped answering',
          ),
        ),
      );
    }
  }
}

/** A call nobody else can join (Redis was unreachable): still served, just not shared. */
function solo(): LeadingFlight {
  const flight = new Flight();
  return { flight, run: (call) => pumpIntoFlight(call, flight) };
}

type StreamEntries = [id: string, fields: string[]][];

/**
 * XREAD's reply through `call`: ioredis hands it over as `[[name, entries], ...]` or, as
 * seen with Redis 7, flattened to `[name, entries, name, entries, ...]`. Both are read.
 */
function streamReplies(reply: unknown[]): [string, StreamEntries][] {
  if (typeof reply[0] !== 'string') return reply as [string, StreamEntries][];
  const pairs: [string, StreamEntries][] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) {
    pairs.push([String(reply[i]), reply[i + 1] as StreamEntries]);
  }
  return pairs;
}
