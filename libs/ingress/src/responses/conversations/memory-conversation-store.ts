import type { JsonObject } from '@aigw/contracts/data-plane';
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

/**
 * Conversations in this process's memory: lost on restart, not shared between processes.
 * Bounded by conversations and serialized bytes (the response store's limits, applied to
 * conversations apart), least recently used first, and by each conversation's TTL.
 */
export class MemoryConversationStore implements ConversationStore {
  readonly kind = 'memory';
  /** Map order is recency order: oldest first. */
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    readonly limits: MemoryStoreLimits,
    private readonly onEvicted: (reason: EvictionReason) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async create(conversation: StoredConversation, ttlMs: number): Promise<boolean> {
    const header = JSON.stringify(conversation.header);
    const items = conversation.items.map((item) => JSON.stringify(item));
    const bytes = items.reduce((sum, text) => sum + bytesOf(text), bytesOf(header));
    if (bytes > this.limits.maxBytes || ttlMs <= 0) return false;
    this.remove(conversation.header.id);
    this.makeRoom(bytes, 1);
    this.entries.set(conversation.header.id, {
      header,
      items,
      bytes,
      expiresAt: this.now() + ttlMs,
    });
    this.bytes += bytes;
    return true;
  }

  async header(id: string): Promise<ConversationHeader | undefined> {
    const entry = this.live(id);
    return entry && (JSON.parse(entry.header) as ConversationHeader);
  }

  async read(id: string): Promise<StoredConversation | undefined> {
    const entry = this.live(id);
    if (!entry) return undefined;
    return {
      header: JSON.parse(entry.header) as ConversationHeader,
      items: entry.items.map((text) => JSON.parse(text) as JsonObject),
    };
  }

  async append(id: string, items: readonly JsonObject[], ttlMs: number): Promise<AppendResult> {
    const entry = this.live(id);
    if (!entry) return 'missing';
    const texts = items.map((item) => JSON.stringify(item));
    const added = texts.reduce((sum, text) => sum + bytesOf(text), 0);
    if (entry.bytes + added > this.limits.maxBytes) return 'too_large';
    this.entries.delete(id);
    this.makeRoom(added, 1);
    entry.items.push(...texts);
    entry.bytes += added;
    entry.expiresAt = this.now() + ttlMs;
    this.entries.set(id, entry);
    this.bytes += added;
    return 'appended';
  }

  async setMetadata(
    id: string,
    metadata: Readonly<Record<string, string>>,
    ttlMs: number,
  ): Promise<boolean> {
    const entry = this.live(id);
    if (!entry) return false;
    const header = JSON.parse(entry.header) as ConversationHeader;
    const text = JSON.stringify({ ...header, metadata });
    const change = bytesOf(text) - bytesOf(entry.header);
    entry.header = text;
    entry.bytes += change;
    entry.expiresAt = this.now() + ttlMs;
    this.bytes += change;
    return true;
  }

  async deleteItem(id: string, itemId: string): Promise<boolean> {
    const entry = this.live(id);
    const at = entry?.items.findIndex((text) => (JSON.parse(text) as JsonObject).id === itemId);
    if (!entry || at === undefined || at === -1) return false;
    const [removed] = entry.items.splice(at, 1);
    entry.bytes -= bytesOf(removed);
    this.bytes -= bytesOf(removed);
    return true;
  }

  async delete(id: string): Promise<boolean> {
    return this.remove(id);
  }

  /** Conversations and bytes held, for tests and diagnostics. */
  size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
  }

  /** The entry, made the most recently used, unless absent or expired. */
  private live(id: string): Entry | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.evict(id, 'expired');
      return undefined;
    }
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry;
  }

  /** Evicts expired, then least recently used, conversations until `bytes` more fit. */
  private makeRoom(bytes: number, entries: number): void {
    const now = this.now();
    for (const [id, entry] of this.entries) {
      const full =
        this.entries.size + entries > this.limits.maxEntries ||
        this.bytes + bytes > this.limits.maxBytes;
      if (entry.expiresAt <= now) this.evict(id, 'expired');
      else if (full) this.evict(id, 'capacity');
      else break;
    }
  }

  private evict(id: string, reason: EvictionReason): void {
    if (this.remove(id)) this.onEvicted(reason);
  }

  private remove(id: string): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    this.bytes -= entry.bytes;
    return true;
  }
}
