// SQLite's answer for a file it cannot read as a database: a torn or corrupted file, as a
// failing disk or a filesystem restored from a broken snapshot may leave.

/** SQLITE_CORRUPT ("database disk image is malformed") and SQLITE_NOTADB, extended or not. */
const UNREADABLE_CODES = new Set([11, 26]);

/** Whether `error` is SQLite refusing the file's contents, not a lock, a permission or a full disk. */
export function isUnreadableDatabase(error: unknown): boolean {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' && UNREADABLE_CODES.has(code & 0xff);
}
