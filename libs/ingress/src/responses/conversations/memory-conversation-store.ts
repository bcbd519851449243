import type { JsonObject } from '@aigw/contracts/data-plane';
import { heapBytesOf } from '../../cache/domain/heap-bytes';
import { BoundedLru } from '../bounded-lru';
import type { MemoryStoreLimits } from '../state/memory-response-store';
import type { EvictionReason } from '../state/response-store';
import type { ConversationHeader, StoredConversation } from './conversation';
import type { AppendResult, ConversationStore } from './conversation-store';

interface Entry {
  header: string;
  /** Each item serialized: what is kept is a copy nobody can mutate. */
  readonly items: string[];
  /** The heap it takes (what the store's bound counts). */
  bytes: number;
  /** Its header and items in UTF-8 (what one conversation's cap counts, as in Redis). */
  serializedBytes: number;
  expiresAt: number;
}

const utf8BytesOf = (text: string) => Buffer.byteLength(text);

/**
 * The heap a kept conversation takes besides its strings' characters: its entry, map slot,
 * item list and header string (measured: ~200 bytes, Node 24, and ~180 more once an append
 * has grown its list, which V8 gives room for 16 more), and each item's string header and
 * list slot (~25 bytes; 32 leaves room for the list's growth by half).
 */
const CONVERSATION_OVERHEAD_BYTES = 380;
const ITEM_OVERHEAD_BYTES = 32;

/** What an item weighs on the heap: its JSON at one or two bytes a character, as V8 holds it. */
const itemHeapBytes = (text: string) => heapBytesOf(text) + ITEM_OVERHEAD_BYTES;

export interface MemoryConversationLimits extends MemoryStoreLimits {
  /**
   * The most one conversation (header and items, serialized in UTF-8, as the Redis store
   * counts it) holds; the store's own bytes when unset.
   */
  readonly maxConversationBytes?: number;
}

/**
 * Conversations in this process's memory: lost on restart, not shared between processes.
 * Bounded by conversations and the heap they take (the response store's limits, applied to
 * conversations apart; a conversation with any character past U+00FF takes two bytes a
 * character), least recently used first, and by each conversation's TTL.
 */
export class MemoryConversationStore implements ConversationStore {
  readonly kind = 'memory';
  private readonly lru: BoundedLru<Entry>;
  private readonly maxConversationBytes: number;

  constructor(
    readonly limits: MemoryConversationLimits,
    onEvicted: (reason: EvictionReason) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.lru = new BoundedLru(limits, onEvicted, now);
    this.maxConversationBytes = Math.min(
      limits.maxBytes,
      limits.maxConversationBytes ?? limits.maxBytes,
    );
  }

  async create(conversation: StoredConversation, ttlMs: number): Promise<boolean> {
    const id = conversation.header.id;
    const header = JSON.stringify(conversation.header);
    const items = conversation.items.map((item) => JSON.stringify(item));
    const serializedBytes = items.reduce(
      (sum, text) => sum + utf8BytesOf(text),
      utf8BytesOf(header),
    );
    const bytes = items.reduce(
      (sum, text) => sum + itemHeapBytes(text),
      heapBytesOf(id) + heapBytesOf(header) + CONVERSATION_OVERHEAD_BYTES,
    );
    const fits = serializedBytes <= this.maxConversationBytes && bytes <= this.limits.maxBytes;
    if (!fits || ttlMs <= 0) return false;
    this.lru.remove(id);
    this.lru.add(id, { header, items, bytes, serializedBytes, expiresAt: this.now() + ttlMs });
    return true;
  }

  async header(id: string): Promise<ConversationHeader | undefined> {
    const entry = this.lru.live(id);
    return entry && (JSON.parse(entry.header) as ConversationHeader);
  }

  async read(id: string): Promise<StoredConversation | undefined> {
    const entry = this.lru.live(id);
    if (!entry) return undefined;
    return {
      header: JSON.parse(entry.header) as ConversationHeader,
      items: entry.items.map((text) => JSON.parse(text) as JsonObject),
    };
  }

  async append(id: string, items: readonly JsonObject[], ttlMs: number): Promise<AppendResult> {
    const entry = this.lru.live(id);
    if (!entry) return 'missing';
    const texts = items.map((item) => JSON.stringify(item));
    const added = texts.reduce((sum, text) => sum + utf8BytesOf(text), 0);
    const grown = texts.reduce((sum, text) => sum + itemHeapBytes(text), 0);
    const fits =
      entry.serializedBytes + added <= this.maxConversationBytes &&
      entry.bytes + grown <= this.limits.maxBytes;
    if (!fits) return 'too_large';
    // Taken out and added back grown, so making room never evicts the conversation itself.
    this.lru.remove(id);
    entry.items.push(...texts);
    entry.serializedBytes += added;
    entry.bytes += grown;
    entry.expiresAt = this.now() + ttlMs;
    this.lru.add(id, entry);
    return 'appended';
  }

  async setMetadata(
    id: string,
    metadata: Readonly<Record<string, string>>,
    ttlMs: number,
  ): Promise<boolean> {
    const entry = this.lru.live(id);
    if (!entry) return false;
    const header = JSON.parse(entry.header) as ConversationHeader;
    const text = JSON.stringify({ ...header, metadata });
    entry.serializedBytes += utf8BytesOf(text) - utf8BytesOf(entry.header);
    this.lru.resize(entry, heapBytesOf(text) - heapBytesOf(entry.header));
    entry.header = text;
    entry.expiresAt = this.now() + ttlMs;
    return true;
  }

  async deleteItem(id: string, itemId: string): Promise<boolean> {
    const entry = this.lru.live(id);
    const at = entry?.items.findIndex((text) => (JSON.parse(text) as JsonObject).id === itemId);
    if (!entry || at === undefined || at === -1) return false;
    const [removed] = entry.items.splice(at, 1);
    entry.serializedBytes -= utf8BytesOf(removed);
    this.lru.resize(entry, -itemHeapBytes(removed));
    return true;
  }

  async delete(id: string): Promise<boolean> {
    return this.lru.remove(id);
  }

  /** Conversations and the heap bytes they take, for tests and diagnostics. */
  size(): { entries: number; bytes: number } {
    return this.lru.size();
  }

  async close(): Promise<void> {
    this.lru.clear();
  }
}
