import type { JsonObject } from '@aigw/contracts/data-plane';

/** A message's text: its string content, or its parts' `text` joined (other parts skipped). */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) => {
      const text = (part as JsonObject | null)?.text;
      return typeof text === 'string' ? text : '';
    })
    .join('');
}
