import { randomBytes } from 'node:crypto';
import { DataPlaneError, type JsonObject } from '@aigw/contracts/data-plane';
import { translateResponsesRequest } from '../domain/responses-request';
import { metadataParam } from '../domain/metadata';
import { error as invalid } from '../domain/request-params';
import { normalizedInput } from '../state/stored-response';

// OpenAI's Conversations API: a conversation is a list of Responses items the gateway
// keeps for its caller; `/v1/responses` with `conversation` sends them before its own input
// and appends its input and output once it completes.

/** What a conversation is besides its items. */
export interface ConversationHeader {
  readonly id: string;
  /** The caller's user key: only it may read, use, change or delete the conversation. */
  readonly owner: string;
  /** Unix seconds. */
  readonly created_at: number;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface StoredConversation {
  readonly header: ConversationHeader;
  /** Oldest first, each with a unique id. */
  readonly items: readonly JsonObject[];
}

/** A conversation's `metadata`: the same rules as a response's. */
export const conversationMetadata = metadataParam;

/** Items one create call may add, as OpenAI documents. */
export const MAX_ITEMS_PER_CALL = 20;

/** A new conversation id: random, so no client can name another's. */
export function conversationId(): string {
  return `conv_${randomBytes(24).toString('hex')}`;
}

/** The JSON a client gets for a conversation. */
export function conversationObject(header: ConversationHeader): JsonObject {
  return {
    id: header.id,
    object: 'conversation',
    created_at: header.created_at,
    metadata: { ...header.metadata },
  };
}

/**
 * `items` a client adds: Responses input items this gateway can send to a model (checked
 * by the same translation `/v1/responses` uses), at most 20, normalized as stored (typed,
 * messages with parts and a status) with an id each; `required` refuses none.
 */
export function conversationItems(value: unknown, required: boolean): JsonObject[] {
  if (value === undefined || value === null) {
    if (required) throw invalid('items', "Missing required parameter: 'items'.");
    return [];
  }
  if (!Array.isArray(value))
    throw invalid('items', "Invalid type for 'items': expected an array of items.");
  if (value.length === 0) {
    if (required)
      throw invalid('items', "Invalid value for 'items': it must hold at least one item.");
    return [];
  }
  if (value.length > MAX_ITEMS_PER_CALL) {
    throw invalid(
      'items',
      `Invalid value for 'items': at most ${MAX_ITEMS_PER_CALL} items at a time.`,
    );
  }
  try {
    translateResponsesRequest({ model: 'conversation', input: value }, { stateful: true });
  } catch (error) {
    if (!(error instanceof DataPlaneError)) throw error;
    // The translation names `input`; the client sent `items`.
    const param = error.param?.replace(/^input/, 'items');
    throw invalid(param ?? 'items', error.message.replace(/'input/g, "'items"));
  }
  return asConversationItems(normalizedInput(value, itemIdSuffix()));
}

function itemIdSuffix(): string {
  return randomBytes(12).toString('hex');
}

/** Items as a conversation holds them: messages say they are completed, as OpenAI's do. */
export function asConversationItems(items: readonly JsonObject[]): JsonObject[] {
  return items.map((item) =>
    item.type === 'message' && item.status === undefined ? { ...item, status: 'completed' } : item,
  );
}

/**
 * `items` with ids unique in the conversation: one the conversation (or an earlier item of
 * `items`) already holds gets a new one, so `after` and item lookups stay unambiguous.
 */
export function withUniqueIds(items: readonly JsonObject[], taken: Iterable<string>): JsonObject[] {
  const seen = new Set(taken);
  return items.map((item) => {
    let id = typeof item.id === 'string' ? item.id : '';
    if (id === '' || seen.has(id)) {
      const prefix = id.includes('_') ? id.slice(0, id.indexOf('_')) : 'item';
      id = `${prefix}_${itemIdSuffix()}`;
    }
    seen.add(id);
    return id === item.id ? item : { ...item, id };
  });
}

/** Serialized bytes of items, as the stores count them. */
export function itemBytes(items: readonly JsonObject[]): number {
  let bytes = 0;
  for (const item of items) bytes += Buffer.byteLength(JSON.stringify(item));
  return bytes;
}
