// Where a stored response sits in its chain (the responses `previous_response_id` linked),
// in a form whose size does not grow with the chain. Earlier releases kept in each record
// every earlier turn's id (`ancestors`), so a chain of n turns held n²/2 ids in all
// (~28 MB for 1,000 turns) and each turn wrote more than the one before. Now a record
// names only its earlier turns since the last checkpoint (a turn whose depth is a multiple
// of CHECKPOINT_INTERVAL): at most that many ids. A checkpoint's own lineage reaches the
// checkpoint before it, so walking a chain of n turns back reads n / CHECKPOINT_INTERVAL
// records one after another (all of which replaying the chain reads anyway).

/** A record's place in its chain: the whole list (older releases), the linear form, or both. */
export interface ChainPosition {
  /** Every earlier turn's id, oldest first: what releases before the linear form read. */
  readonly ancestors?: readonly string[];
  /** How many turns came before this one. */
  readonly depth?: number;
  /** The earlier turns from the last checkpoint on, oldest first (its previous one last). */
  readonly lineage?: readonly string[];
}

/** Ids a record names at most; and how many turns one step of a chain walk goes back. */
export const CHECKPOINT_INTERVAL = 32;

/** How many turns came before a record. */
export function depthOf(position: ChainPosition): number {
  return position.ancestors?.length ?? position.depth ?? 0;
}

/** Whether later records' lineages begin at this one, so a walk must read it. */
export function isCheckpoint(position: ChainPosition): boolean {
  const depth = depthOf(position);
  return depth > 0 && depth % CHECKPOINT_INTERVAL === 0;
}

/**
 * The place of a response continuing the chain `earlier` (every turn's id, oldest first,
 * the one it continues last). `withAncestors` also writes the whole list, for replicas of
 * the release before this one, which read only that.
 */
export function positionAfter(earlier: readonly string[], withAncestors: boolean): ChainPosition {
  const depth = earlier.length;
  const start = depth === 0 ? 0 : depth - 1 - ((depth - 1) % CHECKPOINT_INTERVAL);
  const position = { depth, lineage: earlier.slice(start) };
  return withAncestors ? { ...position, ancestors: [...earlier] } : position;
}

const isIdList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((id) => typeof id === 'string');

/** Whether a decoded record's place is one this release can walk (either form, consistent). */
export function isValidPosition(record: Record<string, unknown>): boolean {
  const { ancestors, depth, lineage } = record;
  if (ancestors !== undefined && !isIdList(ancestors)) return false;
  if (depth === undefined && lineage === undefined) return ancestors !== undefined;
  if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 0) return false;
  if (!isIdList(lineage)) return false;
  if (ancestors !== undefined && ancestors.length !== depth) return false;
  const expected = depth === 0 ? 0 : ((depth - 1) % CHECKPOINT_INTERVAL) + 1;
  return lineage.length === expected;
}

/** What a walk found: the earlier turns' ids it could reach, and the records it read. */
export interface Ancestry<E> {
  /** Oldest first; when `brokenAt`, only those from it on (it, then the later turns). */
  readonly ids: string[];
  /** Records read on the way, by id (replaying them needs no second read). */
  readonly read: Map<string, E>;
  /** The checkpoint that was gone (expired, evicted, deleted by an older release). */
  readonly brokenAt?: string;
}

/**
 * The ids of the turns before `from`, oldest first, read back checkpoint by checkpoint.
 * `read` gives the entries (records or deletion markers, which keep their place) under
 * some ids, undefined for those gone.
 */
export async function walkAncestry<E extends ChainPosition>(
  from: ChainPosition,
  read: (ids: readonly string[]) => Promise<(E | undefined)[]>,
): Promise<Ancestry<E>> {
  const newestFirst: (readonly string[])[] = [];
  const found = new Map<string, E>();
  const ancestry = (brokenAt?: string): Ancestry<E> => ({
    ids: newestFirst.reverse().flat(),
    read: found,
    ...(brokenAt !== undefined && { brokenAt }),
  });
  let cursor = from;
  let remaining = depthOf(from);
  for (;;) {
    if (cursor.ancestors) {
      newestFirst.push(cursor.ancestors);
      return ancestry();
    }
    const lineage = cursor.lineage ?? [];
    newestFirst.push(lineage);
    remaining -= lineage.length;
    if (remaining <= 0 || lineage.length === 0) return ancestry();
    // The whole segment at once: replaying the chain reads each of them anyway.
    const entries = await read(lineage);
    entries.forEach((entry, index) => entry && found.set(lineage[index], entry));
    const checkpoint = entries[0];
    // A checkpoint not where its place says (never written so) ends the walk too.
    if (!checkpoint || depthOf(checkpoint) !== remaining) return ancestry(lineage[0]);
    cursor = checkpoint;
  }
}
