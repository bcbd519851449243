import type { JsonObject } from '@aigw/contracts/data-plane';
import type { ResponseObject } from '../domain/responses-response';
import { isValidPosition, type ChainPosition } from './chain-position';

// What the gateway keeps of a Responses API answer the client asked it to store, so a
// later request can name it in `previous_response_id` and the client can retrieve, list
// or delete it. The gateway translates every Responses request to a chat request, so the
// conversation's state must live here, whatever the backend.

/**
 * One stored response: the turn's own input and the answer, never the earlier turns, and
 * its place in its chain (see `ChainPosition`).
 */
export interface StoredResponse extends ChainPosition {
  readonly id: string;
  /** The caller's user key (the one budgets use): only it may read, chain or delete it. */
  readonly owner: string;
  /** The model the client asked for; its route identifies a caller who retrieves it. */
  readonly model: string;
  /** The input items as the client sent them, normalized (typed, with ids). */
  readonly input: readonly JsonObject[];
  /**
   * The Response as answered, with `store: true`, its `previous_response_id`, usage and
   * created_at; its reasoning items always carry their thinking blocks
   * (`encrypted_content`), which a chained turn sends back to the backend (Anthropic
   * refuses a tool-use continuation without them) and which are shown only to a client
   * that asks for them.
   */
  readonly response: ResponseObject;
}

/** A response before it has a place in a chain: what the edge makes of an answer. */
export type UnplacedResponse = Pick<
  StoredResponse,
  'id' | 'owner' | 'model' | 'input' | 'response'
>;

/**
 * What a deleted checkpoint leaves (see `isCheckpoint`): its place alone, so the later
 * turns of its chain still find the earlier ones (its `input_items` list them), while it
 * reads as never stored. Releases before the linear chain form cannot decode it, and take
 * it for absent, as they would the deleted record.
 */
export interface DeletedResponse extends ChainPosition {
  readonly id: string;
  readonly deleted: true;
}

/** What a store holds under a response id. */
export type StoredEntry = StoredResponse | DeletedResponse;

export function isDeleted(entry: StoredEntry): entry is DeletedResponse {
  return 'deleted' in entry && entry.deleted === true;
}

/** The record an entry holds: none for one absent or deleted. */
export function liveRecord(entry: StoredEntry | undefined): StoredResponse | undefined {
  return entry && !isDeleted(entry) ? entry : undefined;
}

/** Serialized form: the stores keep strings, so what they hold is a copy nobody can mutate. */
export function encodeStored(entry: StoredEntry): string {
  return JSON.stringify(entry);
}

/** A stored entry back; undefined for anything that is not one (another version, damage). */
export function decodeStored(text: string): StoredEntry | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  const entry: Record<string, unknown> = parsed;
  if (typeof entry.id !== 'string' || !isValidPosition(entry)) return undefined;
  if (entry.deleted === true) return entry as unknown as DeletedResponse;
  const record = entry as Partial<StoredResponse>;
  const valid =
    typeof record.owner === 'string' &&
    typeof record.model === 'string' &&
    Array.isArray(record.input) &&
    typeof record.response === 'object' &&
    record.response !== null &&
    Array.isArray(record.response.output);
  return valid ? (record as StoredResponse) : undefined;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const ITEM_PREFIX: Readonly<Record<string, string>> = {
  message: 'msg',
  function_call: 'fc',
  function_call_output: 'fco',
  custom_tool_call: 'ctc',
  custom_tool_call_output: 'ctco',
  reasoning: 'rs',
};

/**
 * A request's `input` (already validated by the translation) as the list of items
 * `input_items` returns: a string becomes one user message, an "easy" message gets its
 * type, text content becomes parts, and every item has an id (the client's, else one
 * made of the response's).
 */
export function normalizedInput(input: unknown, responseId: string): JsonObject[] {
  const items: unknown[] = typeof input === 'string' ? [{ role: 'user', content: input }] : [];
  if (Array.isArray(input)) items.push(...(input as unknown[]));
  const suffix = responseId.replace(/^resp_/, '');
  return items.filter(isObject).map((item, index) => {
    // The translation took only typed items, and messages without a type.
    const type = typeof item.type === 'string' ? item.type : 'message';
    const normalized: JsonObject = { ...item, type };
    if (type === 'message' && typeof item.content === 'string') {
      const part = item.role === 'assistant' ? 'output_text' : 'input_text';
      normalized.content = [{ type: part, text: item.content }];
    }
    if (typeof item.id !== 'string' || item.id === '') {
      normalized.id = `${ITEM_PREFIX[type] ?? 'item'}_${suffix}_in${index}`;
    }
    return normalized;
  });
}
