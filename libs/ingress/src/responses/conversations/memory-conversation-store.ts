import type { JsonObject } from '@aigw/contracts/data-plane';
import { BoundedLru } from '../bounded-lru';
import type { MemoryStoreLimits } from '../state/memory-response-store';
import type { EvictionReason } from '../state/response-store';
import type { ConversationHeader, StoredConversation } from './conversation';
import type { AppendResult, ConversationStore } from './conversation-store';

interface Entry {
  header: string;
  /** Each item serialized: what is kept is a copy nobody can mutate. */
  readonly items: string[];
  bytes: number;
  expiresAt: number;
}

const bytesOf = (text: string) => Buffer.byteLength(text);

export interface MemoryConversationLimits extends MemoryStoreLimits {
  /** The most one conversation (header and items) holds; the store's own bytes when unset. */
  readonly maxConversationBytes?: number;
}

/**
 * Conversations in this process's memory: lost on restart, not shared between processes.
 * Bounded by conversations and serialized bytes (the response store's limits, applied to
 * conversations apart), least recently used first, and by each conversation's TTL.
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
    const header = JSON.stringify(conversation.header);
    const items = conversation.items.map((item) => JSON.stringify(item));
    const bytes = items.reduce((sum, text) => sum + bytesOf(text), bytesOf(header));
    if (bytes > this.maxConversationBytes || ttlMs <= 0) return false;
    this.lru.remove(conversation.header.id);
    this.lru.add(conversation.header.id, { header, items, bytes, expiresAt: this.now() + ttlMs });
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
    const added = texts.reduce((sum, text) => sum + bytesOf(text), 0);
    if (entry.bytes + added > this.maxConversationBytes) return 'too_large';
    // Taken out and added back grown, so making room never evicts the conversation itself.
    this.lru.remove(id);
    entry.items.push(...texts);
    entry.bytes += added;
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
    const change = bytesOf(text) - bytesOf(entry.header);
    entry.header = text;
    this.lru.resize(entry, change);
    entry.expiresAt = this.now() + ttlMs;
    return true;
  }

  async deleteItem(id: string, itemId: string): Promise<boolean> {
    const entry = this.lru.live(id);
    const at = entry?.items.findIndex((text) => (JSON.parse(text) as JsonObject).id === itemId);
    if (!entry || at === undefined || at === -1) return false;
    const [removed] = entry.items.splice(at, 1);
    this.lru.resize(entry, -bytesOf(removed));
    return true;
  }

  async delete(id: string): Promise<boolean> {
    return this.lru.remove(id);
  }

  /** Conversations and bytes held, for tests and diagnostics. */
  size(): { entries: number; bytes: number } {
    return this.lru.size();
  }

  async close(): Promise<void> {
    this.lru.clear();
  }
}
