import type { HeldObjectStore, HeldRecord, StoredKind } from './held-objects';

/**
 * The records of `kind` kept under any of `owners` (the keys the routes give one caller,
 * IngressPipeline.ownerKeysWithoutModel), newest first and at most `max`, as one owner's
 * list is. A record has one owner, so none is listed twice.
 */
export async function recordsOfOwners(
  store: HeldObjectStore,
  owners: readonly string[],
  kind: StoredKind,
  max: number,
): Promise<HeldRecord[]> {
  const lists = await Promise.all(owners.map((owner) => store.list(owner, kind, max)));
  if (lists.length === 1) return lists[0];
  return lists
    .flat()
    .sort((a, b) => b.createdAt - a.createdAt)
    .slice(0, max);
}

/** One owner key as a list of them: none where the caller has no key (no route serves). */
export function ownerKeys(owner: string | undefined): readonly string[] {
  return owner === undefined ? [] : [owner];
}
