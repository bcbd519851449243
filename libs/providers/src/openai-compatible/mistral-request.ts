import { createHash } from 'node:crypto';
import type { JsonObject } from '@aigw/contracts/data-plane';
import { isJsonObject } from '../core/json-shape';
import { idWithoutSignature } from '../core/tool-call-signature-id';
import { breaksMistralTurnOrder, inMistralTurnOrder } from './mistral-turn-order';

// Mistral's chat API speaks OpenAI's format with its own rules, and answers 400 or 422 to a
// body that breaks them where OpenAI would take it.

/** The only tool call ids Mistral takes back: "a-z, A-Z, 0-9, with a length of 9". */
const MISTRAL_TOOL_CALL_ID = /^[a-zA-Z0-9]{9}$/;
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * An id Mistral takes for a tool call id it would refuse (OpenAI's `call_...`, Anthropic's
 * `toolu_...`, one of ours): the same for the same id, so a call and its result still pair.
 */
function mistralToolCallId(id: string): string {
  if (MISTRAL_TOOL_CALL_ID.test(id)) return id;
  const digest = createHash('sha256').update(idWithoutSignature(id)).digest();
  let out = '';
  for (let i = 0; i < 9; i++) out += BASE62[digest[i] % BASE62.length];
  return out;
}

/**
 * OpenAI's fields that change nothing in an answer (an end-user id, a retention, a storing
 * flag, a verbosity) and that Mistral does not define: the openai SDKs' `user`, and what the
 * Responses edge forwards. Mistral refuses them (422), so they are left out.
 */
const OPENAI_HINTS = [
  'user',
  'safety_identifier',
  'prompt_cache_retention',
  'verbosity',
  'store',
] as const;

/**
 * A chat body Mistral takes: OpenAI's `seed` by Mistral's name, `random_seed` (the wire sends
 * `max_completion_tokens` as `max_tokens` and leaves out `service_tier`: provider-fields.ts),
 * without OpenAI's hints it refuses, messages with only the fields Mistral defines for their
 * role, tool call ids (on assistant turns and tool results) that a conversation begun on
 * another backend, or by a client, gave in another form made Mistral's, and turns in an
 * order Mistral takes (mistral-turn-order: a last assistant message as the prefix to
 * continue, an assistant turn between a tool result and a user message). The same object
 * when nothing changes.
 */
export function mistralChatBody(body: JsonObject): JsonObject {
  const messages: unknown[] | undefined = Array.isArray(body.messages) ? body.messages : undefined;
  const reshaped =
    messages !== undefined && (messages.some(needsReshaping) || breaksMistralTurnOrder(messages));
  const renamed = 'seed' in body;
  if (!reshaped && !renamed && !OPENAI_HINTS.some((field) => field in body)) return body;
  const { seed, ...copy } = body;
  for (const field of OPENAI_HINTS) delete copy[field];
  // The client's own Mistral name wins.
  if (seed !== undefined && copy.random_seed === undefined) copy.random_seed = seed;
  if (reshaped) {
    copy.messages = inMistralTurnOrder(
      messages.map((message) => withMistralToolCallIds(withMistralFields(message))),
    );
  }
  return copy;
}

/**
 * The fields Mistral defines on a message of each role; it refuses any other (422): a
 * `name` on a user turn, or the `refusal`, `annotations` and `audio` an openai SDK client
 * echoes back from an answer.
 */
const MESSAGE_FIELDS: Readonly<Record<string, ReadonlySet<string> | undefined>> = {
  system: fieldsOf('role', 'content'),
  user: fieldsOf('role', 'content'),
  assistant: fieldsOf('role', 'content', 'tool_calls', 'prefix'),
  tool: fieldsOf('role', 'content', 'tool_call_id', 'name'),
};

/**
 * A role's fields, with the gateway's own extensions, which the wire takes out after this
 * and acts on (a failed tool's `is_error` becomes an "Error: " prefix on its output).
 */
function fieldsOf(...fields: string[]): ReadonlySet<string> {
  return new Set([...fields, 'cache_control', 'thinking_blocks', 'reasoning_content', 'is_error']);
}

/** OpenAI's newer name for system instructions, a role Mistral does not know (422). */
const DEVELOPER = 'developer';

function hasFieldsMistralRefuses(message: unknown): boolean {
  if (!isJsonObject(message) || typeof message.role !== 'string') return false;
  if (message.role === DEVELOPER) return true;
  const fields = MESSAGE_FIELDS[message.role];
  return fields !== undefined && Object.keys(message).some((field) => !fields.has(field));
}

function needsReshaping(message: unknown): boolean {
  return hasForeignToolCallId(message) || hasFieldsMistralRefuses(message);
}

/**
 * A message with only the fields Mistral defines for its role, a developer one as system
 * (unknown roles as they are).
 */
function withMistralFields(message: unknown): unknown {
  if (!hasFieldsMistralRefuses(message)) return message;
  const source = message as JsonObject;
  const role = source.role === DEVELOPER ? 'system' : (source.role as string);
  const fields = MESSAGE_FIELDS[role] as ReadonlySet<string>;
  const kept: JsonObject = {};
  for (const field of Object.keys(source)) if (fields.has(field)) kept[field] = source[field];
  kept.role = role;
  return kept;
}

function hasForeignToolCallId(message: unknown): boolean {
  if (!isJsonObject(message)) return false;
  if (
    typeof message.tool_call_id === 'string' &&
    !MISTRAL_TOOL_CALL_ID.test(message.tool_call_id)
  ) {
    return true;
  }
  return (
    Array.isArray(message.tool_calls) &&
    message.tool_calls.some(
      (call) =>
        isJsonObject(call) && typeof call.id === 'string' && !MISTRAL_TOOL_CALL_ID.test(call.id),
    )
  );
}

function withMistralToolCallIds(message: unknown): unknown {
  if (!hasForeignToolCallId(message)) return message;
  const copy = { ...(message as JsonObject) };
  if (typeof copy.tool_call_id === 'string') {
    copy.tool_call_id = mistralToolCallId(copy.tool_call_id);
  }
  if (Array.isArray(copy.tool_calls)) {
    const calls: unknown[] = copy.tool_calls;
    copy.tool_calls = calls.map((call) =>
      isJsonObject(call) && typeof call.id === 'string'
        ? { ...call, id: mistralToolCallId(call.id) }
        : call,
    );
  }
  return copy;
}

/**
 * An embeddings body Mistral takes: OpenAI's `dimensions` by Mistral's name,
 * `output_dimension` (the client's own wins), and without `user`, which Mistral's
 * embeddings do not define and refuse (422). The same object when nothing changes.
 */
export function mistralEmbeddingsBody(body: JsonObject): JsonObject {
  if (!('dimensions' in body) && !('user' in body)) return body;
  const { dimensions, user: _user, ...copy } = body;
  if (dimensions !== undefined && copy.output_dimension === undefined) {
    copy.output_dimension = dimensions;
  }
  return copy;
}
