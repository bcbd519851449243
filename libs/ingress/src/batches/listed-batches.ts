import type { JsonObject } from '@aigw/contracts/data-plane';
import type { HeldRecord } from './held-objects';

/**
 * The most batches one list looks up at their backends. A page may hold up to 1,000
 * (Anthropic's list limit), each a backend call, all made for one client call: the others
 * are answered as the gateway last saw them, and the sweeper bills them when they end.
 */
export const MAX_LIST_LOOKS = 20;

/**
 * A page of batches as a list answers it: of those a look may still change (running, or
 * ended and still owing their bill), the newest MAX_LIST_LOOKS as their backend has them
 * now; every other batch as last seen (one ended and settled will not change). A look that
 * fails answers its batch as last seen too, and is reported as `failedLook`.
 */
export async function listedBatches(
  page: readonly HeldRecord[],
  awaitsLook: (record: HeldRecord) => boolean,
  look: (record: HeldRecord) => Promise<JsonObject>,
  failedLook: (error: unknown) => void,
): Promise<JsonObject[]> {
  const looked = new Set(page.filter(awaitsLook).slice(0, MAX_LIST_LOOKS));
  return await Promise.all(
    page.map(async (record) => {
      if (!looked.has(record)) return record.object;
      try {
        return await look(record);
      } catch (error) {
        failedLook(error);
        return record.object;
      }
    }),
  );
}
