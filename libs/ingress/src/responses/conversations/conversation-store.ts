import type { JsonObject } from '@aigw/contracts/data-plane';
import type { ConversationHeader, StoredConversation } from './conversation';

/** What an append did: `missing` when the conversation is gone, `too_large` past the store's bound. */
export type AppendResult = 'appended' | 'missing' | 'too_large';

/**
 * Where conversations live, beside stored responses: this process's memory or Redis.
 * Keyed by conversation id alone; whose it is is `ConversationState`'s concern. Creating,
 * appending and setting metadata give the conversation its TTL again, so one in use stays.
 */
export interface ConversationStore {
  readonly kind: 'memory' | 'redis';
  /** A new conversation with its first items; false when too large to keep. */
  create(conversation: StoredConversation, ttlMs: number): Promise<boolean>;
  /** The header alone (an ownership check), or undefined when absent or expired. */
  header(id: string): Promise<ConversationHeader | undefined>;
  /** The conversation with its items, oldest first. */
  read(id: string): Promise<StoredConversation | undefined>;
  /** Items added at the end. */
  append(id: string, items: readonly JsonObject[], ttlMs: number): Promise<AppendResult>;
  /** The metadata replaced; false when the conversation is gone. */
  setMetadata(
    id: string,
    metadata: Readonly<Record<string, string>>,
    ttlMs: number,
  ): Promise<boolean>;
  /** One item removed; false when there was none of that id. */
  deleteItem(id: string, itemId: string): Promise<boolean>;
  /** The conversation and its items forgotten; false when there was none. */
  delete(id: string): Promise<boolean>;
  close(): Promise<void>;
}
