import type { Redis } from 'ioredis';
import type { Balance } from './budget-store.port';
import { holdRecordKey } from './redis/budget-scripts';

/** The balances of some limits and one reservation's holds, read at once. */
export interface BalancesBesideHold {
  readonly balances: readonly Balance[];
  /** What the reservation holds, by balance key: empty without one, or once it ended. */
  readonly hold: ReadonlyMap<string, number>;
}

/**
 * Reads the authoritative balances for a process that did not make the reservation (the
 * split deployment's router): the room of some limits, and what a request's hold has.
 */
export interface ModelBalanceReader {
  read(
    reservationId: string | undefined,
    limits: readonly { key: string; limit: number }[],
    now: number,
  ): Promise<BalancesBesideHold>;
}

/**
 * KEYS: balance keys..., hold record. ARGV: now. Replies used and reserved of each key
 * (holds past their time left out, as the next sweep drops them), then the record's
 * entries (balance key, amount held). Reads only: the ingress's scripts sweep and count.
 */
const BALANCES_BESIDE_HOLD_LUA = `
local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS - 1 do
  local bal = KEYS[i]
  local reserved = tonumber(redis.call('HGET', bal, 'reserved') or '0')
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', bal .. ':holds', '-inf', now)) do
    local sep = string.find(member, '|', 1, true)
    reserved = reserved - tonumber(string.sub(member, sep + 1))
  end
  out[#out + 1] = redis.call('HGET', bal, 'used') or '0'
  out[#out + 1] = tostring(reserved)
end
for _, field in ipairs(redis.call('HGETALL', KEYS[#KEYS])) do
  out[#out + 1] = field
end
return out
`;

interface ReaderCommands {
  aigwBalancesBesideHold(numKeys: number, ...args: (string | number)[]): Promise<string[]>;
}

/**
 * The reader over the Redis budget store's keys: its balance hashes, their `:holds` sets,
 * and each reservation's record (holdRecordKey: RedisBudgetStore's layout, see
 * budget-scripts). One script, one round trip.
 */
export class RedisModelBalanceReader implements ModelBalanceReader {
  private readonly redis: Redis & ReaderCommands;

  constructor(
    redis: Redis,
    private readonly namespace = 'aigw',
  ) {
    redis.defineCommand('aigwBalancesBesideHold', { lua: BALANCES_BESIDE_HOLD_LUA });
    this.redis = redis as Redis & ReaderCommands;
  }

  async read(
    reservationId: string | undefined,
    limits: readonly { key: string; limit: number }[],
    now: number,
  ): Promise<BalancesBesideHold> {
    const reply = await this.redis.aigwBalancesBesideHold(
      limits.length + 1,
      ...limits.map((limit) => limit.key),
      // No reservation: the bare prefix, a record no reservation id names.
      holdRecordKey(this.namespace, reservationId ?? ''),
      now,
    );
    const balances = limits.map(({ key, limit }, index) => ({
      key,
      limit,
      used: Number(reply[2 * index]),
      reserved: Math.max(0, Number(reply[2 * index + 1])),
    }));
    const hold = new Map<string, number>();
    for (let at = 2 * limits.length; at + 1 < reply.length; at += 2) {
      hold.set(reply[at], Number(reply[at + 1]));
    }
    return { balances, hold };
  }
}
