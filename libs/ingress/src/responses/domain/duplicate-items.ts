import { error, isObject } from './request-params';

/**
 * OpenAI's 400 for an item sent twice in one response's context: most often a client that
 * chains with `previous_response_id` (or a conversation) and still sends the earlier items.
 * Kept, the backend would read (and bill) that history twice, and the stored response's
 * `input_items` would hold one id twice, which pages by id (`after`) cannot get past.
 * `items`: the earlier turns' items, then this request's input, as sent.
 */
export function refuseDuplicateItems(items: readonly unknown[]): void {
  const seen = new Set<string>();
  for (const item of items) {
    const id = isObject(item) ? item.id : undefined;
    if (typeof id !== 'string' || id === '') continue;
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
