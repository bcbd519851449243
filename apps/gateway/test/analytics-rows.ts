import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/**
 * The rows `sql` selects for `user` (its one `?`) from the all-in-one gateway's embedded
 * analytics store under `dataDir`, once there are `count` of them (or a minute passed: the
 * bound only ends a hang, far past what a loaded machine takes to land a row).
 */
export async function analyticsRows<T extends object>(
  dataDir: string,
  sql: string,
  user: string,
  count: number,
): Promise<T[]> {
  const db = new DatabaseSync(join(dataDir, 'analytics.db'), { readOnly: true });
  try {
    const rows = () => db.prepare(sql).all(user) as T[];
    const deadline = Date.now() + 60_000;
    while (rows().length < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return rows();
  } finally {
    db.close();
  }
}
