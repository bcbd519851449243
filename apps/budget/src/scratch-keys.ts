import type { Redis } from 'ioredis';

/** Keys one SCAN step asks for, and at most one UNLINK deletes. */
const SCAN_COUNT = 1_000;

/**
 * Deletes every key whose name starts with `prefix`: a Redis rebuild's scratch copy (its
 * balances and applied-event markers) in the live Redis. Left there, the balances of each
 * run stay until their windows end (a month with monthly limits), a copy per run. SCAN and
 * UNLINK in steps, so the live Redis is never blocked.
 */
export async function dropScratchKeys(redis: Redis, prefix: string): Promise<void> {
  const pattern = `${prefix.replace(/[\\*?[\]]/g, '\\$&')}*`;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}
