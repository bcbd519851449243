import type { JsonObject } from '@aigw/contracts/data-plane';

/**
 * The refusal a chat message or delta carries (OpenAI's `refusal`, set instead of
 * `content` when the model declines), or '' when it has none.
 */
export function refusalText(message: JsonObject): string {
  return typeof message.refusal === 'string' ? message.refusal : '';
}
