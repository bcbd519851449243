import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Topic } from '@aigw/contracts';

/**
 * The usage events a split deployment's provider-adapter recorded in its local event log
 * (no Kafka; its data dir is `dir`/adapter, as startSplitDataPlane sets it): once there
 * are `count`, or those there are after a minute (the bound only ends a hang, far past
 * what a loaded machine takes to land an event).
 */
export async function adapterUsageEvents(
  dir: string,
  count: number,
): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const db = new DatabaseSync(join(dir, 'adapter', 'provider-adapter-events.db'), {
      readOnly: true,
    });
    try {
      const rows = (
        db.prepare('SELECT value FROM events WHERE topic = ?').all(Topic.UsageRecorded) as {
          value: string;
        }[]
      ).map((row) => JSON.parse(row.value) as Record<string, unknown>);
      if (rows.length >= count || Date.now() > deadline) return rows;
    } finally {
      db.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
