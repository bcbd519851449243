/** The spool file at `path` is not a database SQLite can read (see isUnreadableDatabase). */
export class UnreadableSpoolError extends Error {
  /** SQLite's words for it (no event content). */
  readonly reason: string;

  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`event spool ${path} cannot be read (${reason})`, { cause });
    this.name = 'UnreadableSpoolError';
    this.reason = reason;
  }
}
