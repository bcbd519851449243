import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { createRedisClient, queueOnlyUntilFirstReady } from '@aigw/infra';
import { digestOf } from '../client-secrets/client-secret-store';

/** What another replica knows of a call: whose it is, its model, and who holds it. */
export interface CallRecord {
  /** The digest (digestOf) of its caller's owner key: Redis holds no user id. */
  readonly ownerDigest: string;
  readonly model: string;
  /** The replica watching it, which alone can hang it up. */
  readonly replica: string;
}

/**
 * The calls of every replica, for control requests that reach a replica other than the one
 * watching the call (each watches its own: the sideband, through its hops). Each replica
 * announces the calls it places and hears hang-ups the others pass on for them.
 */
export interface CallDirectory {
  /** Announces a call this replica watches now (once it listens, if it asked to). */
  placed(callId: string, owner: string, model: string): Promise<void>;
  ended(callId: string): Promise<void>;
  find(callId: string): Promise<CallRecord | undefined>;
  /** Asks the replica holding the call to hang it up; false when no such replica listens. */
  askHangUp(callId: string, record: CallRecord): Promise<boolean>;
  /** Hears the hang-ups other replicas pass on for this replica's calls. */
  listen(hangUp: (callId: string) => void): Promise<void>;
  close(): Promise<void>;
}

const RECORD_PREFIX = 'aigw:realtime-call:v1:';
const HANGUP_CHANNEL_PREFIX = 'aigw:realtime-call-hangup:v1:';
/**
 * How long a call's record outlives a replica that never said it ended (it died): past
 * OpenAI's longest Realtime session (60 min), so no live call drops out before.
 */
const RECORD_TTL_MS = 2 * 60 * 60 * 1000;

/** The record's key: a digest of the call id, as secrets' keys are. */
function recordKey(callId: string): string {
  return RECORD_PREFIX + digestOf(callId);
}

function decodeRecord(text: string | null): CallRecord | undefined {
  if (text === null) return undefined;
  try {
    const record = JSON.parse(text) as Partial<CallRecord>;
    return typeof record.ownerDigest === 'string' &&
      typeof record.model === 'string' &&
      typeof record.replica === 'string'
      ? (record as CallRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Redis, shared by the replicas as the client secrets are: a key per call, and a channel per
 * replica for the hang-ups passed on to it. `subscriber` is a connection of its own (one
 * that subscribes runs no other command).
 */
export class RedisCallDirectory implements CallDirectory {
  /** This process, as the records and channels name it. */
  readonly replica = randomUUID();
  /** This replica's subscription to its channel, once asked for (`listen`). */
  private subscribed?: Promise<unknown>;

  constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
  ) {}

  async placed(callId: string, owner: string, model: string): Promise<void> {
    // Listening first: a hang-up passed on as soon as the record is found reaches this replica.
    await this.subscribed?.catch(() => undefined);
    const record: CallRecord = { ownerDigest: digestOf(owner), model, replica: this.replica };
    await this.redis.set(recordKey(callId), JSON.stringify(record), 'PX', RECORD_TTL_MS);
  }

  async ended(callId: string): Promise<void> {
    await this.redis.del(recordKey(callId));
  }

  async find(callId: string): Promise<CallRecord | undefined> {
    return decodeRecord(await this.redis.get(recordKey(callId)));
  }

  async askHangUp(callId: string, record: CallRecord): Promise<boolean> {
    return (await this.redis.publish(HANGUP_CHANNEL_PREFIX + record.replica, callId)) > 0;
  }

  async listen(hangUp: (callId: string) => void): Promise<void> {
    const channel = HANGUP_CHANNEL_PREFIX + this.replica;
    // One listener however often a failed subscription is tried again (a call at a time).
    this.subscriber.removeAllListeners('message');
    this.subscriber.on('message', (from: string, callId: string) => {
      if (from === channel) hangUp(callId);
    });
    this.subscribed = this.subscriber.subscribe(channel);
    await this.subscribed;
  }

  /** Once closed, Redis has dropped this replica's channel: no hang-up is taken for it. */
  async close(): Promise<void> {
    await Promise.all([leave(this.subscriber), leave(this.redis)]);
  }
}

/** Quits a connection that is up (its server done with it), else drops it. */
async function leave(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') return redis.disconnect();
  await redis.quit().catch(() => redis.disconnect());
}

/** Single round trips; one taking longer means Redis is away. */
const REDIS_COMMAND_TIMEOUT_MS = 2_000;

/**
 * The directory on `REDIS_URL` (the client secrets' Redis); none without one: a single
 * replica controls its own calls. Reached on first use (a call placed or controlled).
 */
export function openCallDirectory(redisUrl: string | undefined): CallDirectory | undefined {
  if (!redisUrl) return undefined;
  const open = () => {
    const redis = queueOnlyUntilFirstReady(
      createRedisClient(redisUrl, { commandTimeout: REDIS_COMMAND_TIMEOUT_MS, lazyConnect: true }),
    );
    // A failed command is the control request's 503; the connection's own errors (their
    // messages may name the host) are not logged again here.
    redis.on('error', () => undefined);
    return redis;
  };
  return new RedisCallDirectory(open(), open());
}
