import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import {
  conversationId,
  itemBytes,
  withUniqueIds,
  type ConversationHeader,
  type StoredConversation,
} from './conversation';
import { storeUnavailable } from '../state/store-unavailable';
import type { ConversationStore } from './conversation-store';

/** What the operator is told of conversations (`ai_gateway_stored_responses_total{event}`). */
export type ConversationEvent =
  | 'conversation_created'
  | 'conversation_updated'
  | 'conversation_deleted'
  | 'conversation_items_added'
  | 'conversation_item_deleted'
  | 'conversation_hit'
  | 'conversation_miss'
  | 'conversation_too_large'
  | 'conversation_append_failed'
  | 'conversation_evicted'
  | 'conversation_store_unavailable';

export interface ConversationStateOptions {
  readonly store: ConversationStore;
  /** How long a conversation lives after its last write. */
  readonly ttlMs: number;
  /** Serialized bytes of items one conversation holds (what a response sends again). */
  readonly maxBytes: number;
  readonly onEvent?: (event: ConversationEvent) => void;
  readonly onError?: (what: string, error: unknown) => void;
  readonly now?: () => number;
}

/** An id as an error message may repeat it: short, and only the characters ids are made of. */
function printable(id: string): string {
  return id.slice(0, 128).replace(/[^A-Za-z0-9_-]/g, '?');
}

/** The 404 for a conversation unknown to this caller: the same whether absent, expired or not theirs. */
export function conversationNotFound(id: string, param?: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.NotFound,
    `Conversation with id '${printable(id)}' not found.`,
    { param, upstreamCode: 'not_found' },
  );
}

function itemNotFound(itemId: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.NotFound,
    `Item with id '${printable(itemId)}' not found in this conversation.`,
    { upstreamCode: 'not_found' },
  );
}

/**
 * Conversations as each caller sees them: one belongs to the user key that created it,
 * and is absent (404) to every other caller, exactly as an id never created.
 */
export class ConversationState {
  readonly ttlMs: number;
  readonly maxBytes: number;
  private readonly onEvent: (event: ConversationEvent) => void;
  private readonly onError: (what: string, error: unknown) => void;
  private readonly now: () => number;

  constructor(private readonly options: ConversationStateOptions) {
    this.ttlMs = options.ttlMs;
    this.maxBytes = options.maxBytes;
    this.onEvent = options.onEvent ?? (() => undefined);
    this.onError = options.onError ?? (() => undefined);
    this.now = options.now ?? Date.now;
  }

  get storeKind(): ConversationStore['kind'] {
    return this.options.store.kind;
  }

  /** A new conversation of `owner`'s with its first items (already checked), or a 400 when too large. */
  async create(
    owner: string,
    metadata: Readonly<Record<string, string>>,
    items: readonly JsonObject[],
  ): Promise<ConversationHeader> {
    const header: ConversationHeader = {
      id: conversationId(),
      owner,
      created_at: Math.floor(this.now() / 1000),
      metadata,
    };
    const unique = withUniqueIds(items, []);
    this.refuseLarger(header.id, itemBytes(unique));
    if (!(await this.reach((store) => store.create({ header, items: unique }, this.ttlMs)))) {
      this.onEvent('conversation_too_large');
      throw this.tooLarge(header.id);
    }
    this.onEvent('conversation_created');
    return header;
  }

  /**
   * Which of the caller's owner keys (IngressPipeline.ownerKeysWithoutModel) holds
   * conversation `id`, or a 404 when none does. With one key there is nothing to choose:
   * the call made with it checks the owner (and counts the hit or miss), so no read here.
   */
  async ownerAmong(owners: readonly string[], id: string, param?: string): Promise<string> {
    if (owners.length === 1) return owners[0];
    const owner = (await this.reach((store) => store.header(id)))?.owner;
    if (owner === undefined || !owners.includes(owner)) {
      this.onEvent('conversation_miss');
      throw conversationNotFound(id, param);
    }
    return owner;
  }

  /** The caller's conversation header, or a 404. */
  async header(owner: string, id: string, param?: string): Promise<ConversationHeader> {
    const header = await this.reach((store) => store.header(id));
    return this.owned(owner, id, header, param);
  }

  /** The caller's conversation with its items, or a 404. */
  async read(owner: string, id: string, param?: string): Promise<StoredConversation> {
    const conversation = await this.reach((store) => store.read(id));
    this.owned(owner, id, conversation?.header, param);
    return conversation!;
  }

  /**
   * The items a response in the caller's conversation is sent first, once sure the whole
   * (with `inputBytes` of its own input) stays within what the gateway sends again.
   */
  async forResponse(owner: string, id: string, inputBytes: number): Promise<JsonObject[]> {
    const { items } = await this.read(owner, id, 'conversation');
    this.refuseLarger(id, itemBytes(items) + inputBytes, 'conversation');
    return [...items];
  }

  /** Items a client adds (already checked and normalized); the list with their final ids. */
  async add(owner: string, id: string, items: readonly JsonObject[]): Promise<JsonObject[]> {
    const { items: held } = await this.read(owner, id);
    const unique = withUniqueIds(items, idsOf(held));
    this.refuseLarger(id, itemBytes(held) + itemBytes(unique));
    const result = await this.reach((store) => store.append(id, unique, this.ttlMs));
    if (result === 'missing') throw conversationNotFound(id);
    if (result === 'too_large') {
      this.onEvent('conversation_too_large');
      throw this.tooLarge(id);
    }
    this.onEvent('conversation_items_added');
    return unique;
  }

  /**
   * A completed response's input and output appended. The answer is on its way: a
   * failure is reported and counted, never thrown; says whether the items were kept.
   */
  async appendTurn(owner: string, id: string, items: readonly JsonObject[]): Promise<boolean> {
    try {
      const conversation = await this.options.store.read(id);
      // Deleted (or expired) while the response ran: nothing to append to.
      if (!conversation || conversation.header.owner !== owner) {
        this.onEvent('conversation_append_failed');
        return false;
      }
      const unique = withUniqueIds(items, idsOf(conversation.items));
      const result = await this.options.store.append(id, unique, this.ttlMs);
      this.onEvent(
        result === 'appended' ? 'conversation_items_added' : 'conversation_append_failed',
      );
      return result === 'appended';
    } catch (error) {
      this.onEvent('conversation_append_failed');
      this.onError('appending to a conversation', error);
      return false;
    }
  }

  async setMetadata(
    owner: string,
    id: string,
    metadata: Readonly<Record<string, string>>,
  ): Promise<ConversationHeader> {
    const header = await this.header(owner, id);
    if (!(await this.reach((store) => store.setMetadata(id, metadata, this.ttlMs)))) {
      throw conversationNotFound(id);
    }
    this.onEvent('conversation_updated');
    return { ...header, metadata };
  }

  /** One item of the caller's conversation, or a 404. */
  async item(owner: string, id: string, itemId: string): Promise<JsonObject> {
    const { items } = await this.read(owner, id);
    const item = items.find((entry) => entry.id === itemId);
    if (!item) throw itemNotFound(itemId);
    return item;
  }

  /** Deletes one item of the caller's conversation; the conversation, or a 404. */
  async deleteItem(owner: string, id: string, itemId: string): Promise<ConversationHeader> {
    const header = await this.header(owner, id);
    if (!(await this.reach((store) => store.deleteItem(id, itemId)))) throw itemNotFound(itemId);
    this.onEvent('conversation_item_deleted');
    return header;
  }

  async delete(owner: string, id: string): Promise<void> {
    await this.header(owner, id);
    await this.reach((store) => store.delete(id));
    this.onEvent('conversation_deleted');
  }

  async close(): Promise<void> {
    try {
      await this.options.store.close();
    } catch (error) {
      this.onError('closing the conversation store', error);
    }
  }

  /**
   * A call to the store; one that fails (Redis away) is counted, logged and answered with a
   * 503 to retry. Not for appendTurn, which reports its own failures and throws none.
   */
  private async reach<T>(call: (store: ConversationStore) => Promise<T>): Promise<T> {
    try {
      return await call(this.options.store);
    } catch (error) {
      this.onEvent('conversation_store_unavailable');
      this.onError('reaching the conversation store', error);
      throw storeUnavailable('conversation', error);
    }
  }

  private owned<T extends ConversationHeader | undefined>(
    owner: string,
    id: string,
    header: T,
    param?: string,
  ): ConversationHeader {
    if (!header || header.owner !== owner) {
      this.onEvent('conversation_miss');
      throw conversationNotFound(id, param);
    }
    this.onEvent('conversation_hit');
    return header;
  }

  private refuseLarger(id: string, bytes: number, param = 'items'): void {
    if (bytes <= this.maxBytes) return;
    this.onEvent('conversation_too_large');
    throw this.tooLarge(id, param);
  }

  private tooLarge(id: string, param = 'items'): DataPlaneError {
    return new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      `Conversation '${printable(id)}' would hold more than the ${this.maxBytes} bytes of items this gateway keeps and sends again. Start a new one, sending the context you need in its items.`,
      { param },
    );
  }
}

function idsOf(items: readonly JsonObject[]): string[] {
  return items.map((item) => item.id).filter((id): id is string => typeof id === 'string');
}
