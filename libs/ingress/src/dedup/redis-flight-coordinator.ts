import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { DataPlaneError, DataPlaneErrorCode, type GatewayAnswer } from '@aigw/contracts/data-plane';
import { queueOnlyUntilFirstReady } from '@aigw/infra';
import { redisSilence, RedisSilentError } from '../cache/redis-silence';
import { Flight, flightError, pumpIntoFlight, type FlightEvent } from './domain/flight';
import { abandonLock, FlightLock, type LockRenewalFailure } from './flight-lock';
import { readFlightEntry } from './flight-stream-entries';
import { FlightStreamWriter } from './flight-stream-writer';
import {
  DEFAULT_FLIGHT_MEMORY,
  LocalFlights,
  type FlightCoordinator,
  type FlightMemoryLimits,
  type LeadOutcome,
  type LeadingFlight,
} from './domain/flight-coordinator';

const PREFIX = 'aigw:dd:v1:';
/** The Redis key of the lock naming the flight that leads `key`. */
export const dedupLockKey = (key: string) => `${PREFIX}{${key}}:lock`;
const lockKey = dedupLockKey;
const streamKey = (key: string, flightId: string) => `${PREFIX}{${key}}:s:${flightId}`;

export interface RedisFlightOptions {
  /** How often a leader says it is alive (and renews its lock) while its call runs. */
  readonly beatMs?: number;
  /**
   * Silence after which followers give up on a leader (its replica died, or lost Redis): a
   * few missed heartbeats. Also how long a leader's lock outlives its last renewal.
   */
  readonly leaderTimeoutMs?: number;
  /** How long a finished call's events stay readable after its last write, past the window. */
  readonly graceMs?: number;
  /** Longest a follower's read blocks before it checks for new followers and silence. */
  readonly blockMs?: number;
  /**
   * How long this process's reads of the streams may keep failing (its reader connection
   * lost, or Redis silent) before its followers are given up on. A shorter flap resumes
   * where it was: the stream keeps every entry.
   */
  readonly readerLossMs?: number;
  /** Finished answers kept in this process for its late followers (the stream has them too). */
  readonly memory?: FlightMemoryLimits;
  /** Told of the blocking reader's own connection once opened (readiness watches it). */
  readonly onReader?: (reader: Redis) => void;
  /** A leader could not renew its running call's lock (see LockRenewalFailure). */
  readonly onLockRenewalFailed?: (reason: LockRenewalFailure) => void;
  /** A follower was given an error because its leader stopped sending heartbeats. */
  readonly onSilentLeader?: () => void;
  readonly onError?: (what: string, error: unknown) => void;
}

/** Three missed heartbeats (one a second): the leader is gone, or cannot reach Redis. */
export const DEFAULT_LEADER_TIMEOUT_MS = 3_000;

/** This replica could not read the shared call's events: not the leader's fault. */
const readerLost = () =>
  new DataPlaneError(
    DataPlaneErrorCode.UpstreamError,
    "this gateway replica lost its connection to Redis while waiting for an identical request's shared upstream call; a retry makes its own call",
  );

/** The leader's replica could not publish all of its answer's events. */
const eventsLost = () =>
  new DataPlaneError(
    DataPlaneErrorCode.UpstreamError,
    'the gateway replica making this shared upstream call lost its connection to Redis before all of its answer was shared; a retry makes its own call',
  );

interface Follow {
  readonly key: string;
  readonly flightId: string;
  readonly flight: Flight;
  lastId: string;
  lastSeenAt: number;
  /** The number of the leader's next batch of events. */
  nextSeq: number;
}

/**
 * Deduplication across replicas through Redis. The first caller takes a lock
 * (`SET NX PX window`) naming a fresh flight id, calls upstream, and appends the call's
 * events to a Redis Stream for that flight (batched per tick, expiring `window + grace`
 * after the last write), with a heartbeat while it runs. Each heartbeat also renews the
 * lock (FlightLock), so a call running past its window keeps its one leader; at its end the
 * lock lasts the rest of the window. Callers on any replica that find the lock read the
 * stream from its first entry (`XREAD` from id 0), so late joiners get the whole answer.
 * One blocking reader connection per process serves every followed flight; a follower hears
 * nothing for `leaderTimeoutMs` (a few heartbeats) only if the leader's replica is gone or
 * cannot reach Redis, and then gets an explicit error, never a hang. Callers on the same
 * replica share the flight in memory. A Redis failure before the call is shared degrades to
 * an undeduplicated call. Once shared, Redis lost on either side never costs a wait nor a
 * wrong answer: a follower whose replica cannot read for `readerLossMs` gets an error at
 * once (a shorter flap resumes), and one whose leader's replica could not publish every
 * batch gets an error instead of an answer with a hole (FlightStreamWriter); the leader's
 * own callers read memory and get the whole answer.
 */
export class RedisFlightCoordinator implements FlightCoordinator {
  private readonly local: LocalFlights;
  private readonly follows = new Map<string, Follow>();
  private readonly beatMs: number;
  private readonly leaderTimeoutMs: number;
  private readonly graceMs: number;
  private readonly blockMs: number;
  private readonly readerLossMs: number;
  /** When the reader last had an answer from Redis (or started). */
  private lastReadAt = 0;
  /** Reads failed in a row since then. */
  private failedReads = 0;
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
    this.leaderTimeoutMs = options.leaderTimeoutMs ?? DEFAULT_LEADER_TIMEOUT_MS;
    this.graceMs = options.graceMs ?? 60_000;
    this.blockMs = options.blockMs ?? 500;
    this.readerLossMs = options.readerLossMs ?? 2_000;
    this.local = new LocalFlights(Date.now, options.memory ?? DEFAULT_FLIGHT_MEMORY);
  }

  async join(key: string): Promise<Flight | undefined> {
    const known = this.local.get(key);
    if (known) return known;
    let found: [string | null, number] | undefined;
    try {
      // Fails at once while Redis is silent (RedisSilence): the request makes its own call.
      const replies = await redisSilence(this.redis).run(() =>
        this.redis.multi().get(lockKey(key)).pttl(lockKey(key)).exec(),
      );
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
      const lock = this.lockOf(key, flightId, windowMs);
      let taken: string | null;
      try {
        taken = await redisSilence(this.redis).run(() =>
          this.redis.set(lockKey(key), flightId, 'PX', lock.initialTtlMs, 'NX'),
        );
      } catch (error) {
        this.options.onError?.('dedup lock', error);
        if (error instanceof RedisSilentError) return { leader: solo() }; // never sent
        // A SET that timed out may still have been applied (Redis silent, not gone): its lock
        // would name a flight nobody leads, and identical requests on other replicas would
        // follow it until the leader timeout, then fail. Sent on the same connection, this
        // runs after that SET if it runs at all (its own failure is the SET's, counted above).
        void abandonLock(this.redis, lockKey(key), flightId);
        return { leader: solo() };
      }
      if (taken === 'OK') {
        const flight = new Flight();
        flight.retained = retain;
        this.local.put(key, flight, windowMs);
        return { leader: this.leading(key, flightId, flight, lock, windowMs) };
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

  private lockOf(key: string, flightId: string, windowMs: number): FlightLock {
    const { onLockRenewalFailed, onError } = this.options;
    return new FlightLock(this.redis, {
      lock: lockKey(key),
      flightId,
      // Never shorter than two beats: one renewal may be late without the lock lapsing.
      leaseMs: Math.max(this.leaderTimeoutMs, 2 * this.beatMs),
      windowEndsAt: Date.now() + windowMs,
      ...(onLockRenewalFailed ? { onRenewalFailed: onLockRenewalFailed } : {}),
      ...(onError ? { onError } : {}),
    });
  }

  private leading(
    key: string,
    flightId: string,
    flight: Flight,
    lock: FlightLock,
    windowMs: number,
  ): LeadingFlight {
    const stream = streamKey(key, flightId);
    const writer = new FlightStreamWriter(this.redis, {
      stream,
      keepMs: windowMs + this.graceMs,
      release: () => lock.abandon(),
      ...(this.options.onError ? { onError: this.options.onError } : {}),
    });
    const remote = {
      append: (event: FlightEvent) => {
        // The leader's own callers read the flight in memory, whatever becomes of Redis.
        flight.append(event);
        writer.append(event);
      },
    };
    return {
      flight,
      run: async (call: Promise<GatewayAnswer>) => {
        writer.start(flight.retained);
        // Each beat tells followers the leader is alive and keeps its lock while the call
        // runs, however long past the window: an identical request joins, never calls again.
        const beat = setInterval(() => {
          writer.beat();
          lock.renew();
        }, this.beatMs);
        beat.unref();
        this.beats.add(beat);
        try {
          await pumpIntoFlight(call, remote);
        } finally {
          clearInterval(beat);
          this.beats.delete(beat);
          await writer.flush();
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
        if (flight.failed || !flight.retained) await lock.abandon();
        // An answer to share stays joinable for the rest of the window, then the key is free.
        else await lock.settle();
      },
    };
  }

  /** Frees the lock if it still names this flight; never rejects. */
  private abandon(lock: string, flightId: string): Promise<void> {
    return abandonLock(this.redis, lock, flightId, this.options.onError);
  }

  private follow(key: string, flightId: string, ttlMs: number): Flight {
    const stream = streamKey(key, flightId);
    const existing = this.follows.get(stream);
    if (existing) return existing.flight;
    const flight = new Flight();
    if (ttlMs > 0) this.local.put(key, flight, ttlMs);
    this.follows.set(stream, {
      key,
      flightId,
      flight,
      lastId: '0',
      lastSeenAt: Date.now(),
      nextSeq: 1,
    });
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
    this.lastReadAt = Date.now();
    this.failedReads = 0;
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
        this.lastReadAt = Date.now();
        this.failedReads = 0;
        await this.deliver(reply);
      } catch (error) {
        this.blocked = false;
        if (this.closed) break;
        this.options.onError?.('dedup read', error);
        // One failed read alone proves nothing: a read whose reply came while this process
        // was busy (a GC pause) times out all the same. Only a retry failing too does.
        this.failedReads += 1;
        if (this.failedReads > 1 && Date.now() - this.lastReadAt > this.readerLossMs) {
          this.giveUpFollows();
        }
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
      this.options.onReader?.(reader);
    }
    if (this.readerId === undefined) this.readerId = String(await this.reader.call('CLIENT', 'ID'));
    return this.reader;
  }

  private async deliver(reply: unknown): Promise<void> {
    if (!Array.isArray(reply)) return; // timed out, or woken for a new stream
    const now = Date.now();
    for (const [stream, entries] of streamReplies(reply)) {
      const follow = this.follows.get(stream);
      if (!follow) continue;
      for (const [id, fields] of entries) {
        // What follows a whole answer (a broken mark for others' sake) is not this one's.
        if (follow.flight.finished) break;
        follow.lastId = id;
        follow.lastSeenAt = now;
        const read = readFlightEntry(fields, follow.nextSeq);
        if ('lost' in read) {
          // A hole in the answer: never handed on as if whole. The key is freed (the leader
          // may not reach Redis to do it), so a retry leads a new call.
          await this.giveUp(stream, follow, eventsLost());
          break;
        }
        follow.nextSeq = read.nextSeq;
        if (!read.retained) follow.flight.retained = false;
        for (const event of read.events) follow.flight.append(event);
      }
      if (follow.flight.finished) this.follows.delete(stream);
    }
  }

  /**
   * This process could not read the streams for `readerLossMs`: its followers get a clear
   * error now rather than a 502 once the leader timeout is over. They do not make the call
   * themselves here: under the default billing a follower holds no budget admission (it
   * never asked, or gave its hold back on losing the race to lead), so an own call would
   * spend past the caller's limits. A retry of the request goes through admission and, with
   * Redis still away, makes its own call at once (joining and leading fail without a wait).
   * The key stays: the leader, on another replica, may well be fine.
   */
  private giveUpFollows(): void {
    for (const [stream, follow] of this.follows) {
      this.follows.delete(stream);
      const error = readerLost();
      this.options.onError?.('dedup follow', error);
      follow.flight.append(flightError(error));
    }
  }

  /** Ends one follower with `error`, the key freed first so a retry leads a new call. */
  private async giveUp(stream: string, follow: Follow, error: DataPlaneError): Promise<void> {
    this.follows.delete(stream);
    await this.abandon(lockKey(follow.key), follow.flightId);
    this.options.onError?.('dedup follow', error);
    follow.flight.append(flightError(error));
  }

  /**
   * A leader silent for `leaderTimeoutMs` (a few missed heartbeats while this replica reads
   * fine) is gone, or lost Redis: the key is freed, then its followers get an error. As on
   * a reader loss, they do not make the call themselves (no budget admission); a retry does.
   */
  private async expireSilent(): Promise<void> {
    for (const [stream, follow] of this.follows) {
      // Silence counts up to this process's last read only: while its own reads fail, it is
      // this replica that hears nothing (readerLossMs decides then), not the leader that went.
      if (this.lastReadAt - follow.lastSeenAt <= this.leaderTimeoutMs) continue;
      this.follows.delete(stream);
      // Freed first, so a caller that retries on the error leads a new call.
      await this.abandon(lockKey(follow.key), follow.flightId);
      this.options.onSilentLeader?.();
      follow.flight.append(
        flightError(
          new DataPlaneError(
            DataPlaneErrorCode.UpstreamError,
            'the gateway replica making this shared upstream call stopped answering (it went down or lost its connection to Redis); a retry makes its own call',
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
