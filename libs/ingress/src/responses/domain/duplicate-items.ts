import { error, isObject } from './request-params';

/**
 * OpenAI's 400 for an item sent twice in one response's context: most often a client that
 * chains with `previous_response_id` (or a conversation) and still sends the earlier items.
 * Kept, the backend would read (and bill) that history twice, and the stored response's
 * `input_items` would hold one id twice, which pages by id (`after`) cannot get past.
 * `sent`: this request's input, as sent; `earlier`: the chain's or conversation's items,
 * whose own repeats are not the client's doing (a chain stored before item ids were
 * random, under one x-request-id) and are left alone.
 */
export function refuseDuplicateItems(
  sent: readonly unknown[],
  earlier: readonly unknown[] = [],
): void {
  const seen = new Set(earlier.map(idOf));
  for (const item of sent) {
    const id = idOf(item);
    if (id === undefined) continue;
    if (seen.has(id)) {
      const shown = id.slice(0, 128).replace(/[^A-Za-z0-9_-]/g, '?');
      throw error(
        'input',
        `Duplicate item found with id ${shown}. Remove duplicate items from your input and try again.`,
      );
    }
    seen.add(id);
  }
}

function idOf(item: unknown): string | undefined {
  const id = isObject(item) ? item.id : undefined;
  return typeof id === 'string' && id !== '' ? id : undefined;
}
