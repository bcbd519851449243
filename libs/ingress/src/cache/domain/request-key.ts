import { createHash } from 'node:crypto';
import type { CacheKeyComponent } from '@aigw/config';
import {
  callerBudgetKey,
  type CallerContext,
  type GatewayRequest,
  type JsonObject,
} from '@aigw/contracts/data-plane';

/** What of a request a key is computed from. */
export type KeyedRequest = Pick<
  GatewayRequest,
  'operation' | 'requestedModel' | 'stream' | 'clientWantsStreamUsage' | 'body'
> & {
  readonly caller: Pick<CallerContext, 'userKey' | 'budgetKey'>;
  /** What goes upstream with the body (`GatewayRequest.forwardHeaders`). */
  readonly forwardHeaders?: Readonly<Record<string, string>>;
};

/**
 * Forwarded client headers that change the answer: Anthropic's beta features (interleaved
 * thinking, context management, token-efficient tools, ...) reach an Anthropic backend as
 * the client's `anthropic-beta`, beside a body that may be the same.
 */
const ANSWER_SHAPING_HEADERS = ['anthropic-beta'] as const;

/**
 * Body fields each optional key component covers. Components absent from the route's
 * `keyComponents` leave their fields out of the key; `model`, `maxTokens`, `stop`, `tools`
 * and `responseFormat` shape the answer itself, so they are always in (listing them is
 * harmless): an answer made without the client's stop sequence may run past it, as one
 * made with a larger `max_tokens` may run past its own.
 */
const COMPONENT_FIELDS: Readonly<Record<CacheKeyComponent, readonly string[]>> = {
  prompt: ['messages', 'prompt', 'input', 'suffix'],
  model: [],
  temperature: ['temperature'],
  topP: ['top_p'],
  maxTokens: ['max_tokens', 'max_completion_tokens'],
  stop: ['stop'],
  seed: ['seed'],
  tools: ['tools', 'tool_choice', 'functions', 'function_call', 'parallel_tool_calls'],
  responseFormat: ['response_format'],
  user: [],
};
const ALWAYS: ReadonlySet<CacheKeyComponent> = new Set([
  'model',
  'maxTokens',
  'stop',
  'tools',
  'responseFormat',
]);

/**
 * Fields that never change an answer's content: transport, bookkeeping, the caller's label.
 * `prompt_cache_key` and `prompt_cache_retention` only steer the provider's prompt cache
 * (Codex sends a new key per session); `safety_identifier` labels the end user for abuse
 * checks, as `user` did before it.
 */
const NOT_ANSWER_SHAPING = new Set([
  'model',
  'stream',
  'stream_options',
  'user',
  'safety_identifier',
  'metadata',
  'store',
  'prompt_cache_key',
  'prompt_cache_retention',
]);

const KNOWN_FIELDS = new Set(Object.values(COMPONENT_FIELDS).flat());

/**
 * A request's cache (or deduplication) key: the SHA-256 of a canonical form of what decides
 * its answer, never of the raw JSON text. Canonical: object keys sorted, `null` members
 * dropped (absent and null mean the same), numbers in one spelling (-0 is 0), strings as
 * the provider gets them (never Unicode-normalized), `max_completion_tokens` and
 * `max_tokens` as one field, a lone `stop` string as a one-element list, a content list of
 * one text part as that text. In the key: the operation, the virtual model name, the stream
 * shape (a stream and a JSON answer never share an entry), `max_tokens`, `stop`, tools and
 * `response_format`, the system/developer messages even when `prompt` is not a component,
 * every body field outside the component vocabulary (`n`, `logprobs`, penalties, ...:
 * unknown fields count, so nothing new is ever ignored), and the components listed in
 * `keyComponents` (`user` means the identified caller: its budget key).
 */
export function requestKey(
  scope: string,
  request: KeyedRequest,
  components: readonly CacheKeyComponent[],
): string {
  const listed = new Set<CacheKeyComponent>([...components, ...ALWAYS]);
  const body = request.body;
  const fields: JsonObject = {};
  for (const component of listed) {
    for (const field of COMPONENT_FIELDS[component]) {
      if (body[field] !== undefined && body[field] !== null) fields[field] = body[field];
    }
  }
  for (const [field, value] of Object.entries(body)) {
    if (!KNOWN_FIELDS.has(field) && !NOT_ANSWER_SHAPING.has(field)) fields[field] = value;
  }
  normalizeFields(fields);
  if (!listed.has('prompt') && Array.isArray(body.messages)) {
    // The system prompt changes every answer, whatever the operator chose to share.
    const system = body.messages.filter((m: unknown) => isInstruction(m));
    if (system.length > 0) fields.messages = system.map(normalizeMessage);
  }
  const form = {
    v: 1,
    operation: request.operation,
    model: request.requestedModel,
    stream: request.stream ? (request.clientWantsStreamUsage ? 'usage' : 'plain') : 'no',
    // The budget key, not the bare id: one id identified two ways (two JWT providers'
    // `alice`) is two users. It is the user key where users are identified one way, so
    // those entries keep their keys.
    user: listed.has('user') ? callerBudgetKey(request.caller) : null,
    fields,
    headers: answerShapingHeaders(request.forwardHeaders),
  };
  return createHash('sha256').update(scope).update('\0').update(canonicalJson(form)).digest('hex');
}

/** The answer-shaping headers sent, each a sorted list of its comma-separated values. */
function answerShapingHeaders(
  headers: Readonly<Record<string, string>> | undefined,
): JsonObject | undefined {
  let found: JsonObject | undefined;
  for (const name of ANSWER_SHAPING_HEADERS) {
    const value = headers?.[name];
    if (value === undefined) continue;
    const values = value
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .sort();
    if (values.length > 0) (found ??= {})[name] = values;
  }
  return found; // absent when none: keys of requests without them are as before
}

function isInstruction(message: unknown): boolean {
  const role = (message as JsonObject | null)?.role;
  return role === 'system' || role === 'developer';
}

function normalizeFields(fields: JsonObject): void {
  if (fields.max_completion_tokens !== undefined) {
    fields.max_tokens = fields.max_completion_tokens;
    delete fields.max_completion_tokens;
  }
  if (typeof fields.stop === 'string') fields.stop = [fields.stop];
  if (Array.isArray(fields.messages)) fields.messages = fields.messages.map(normalizeMessage);
}

function normalizeMessage(message: unknown): unknown {
  if (!message || typeof message !== 'object' || Array.isArray(message)) return message;
  const record = message as JsonObject;
  const content = record.content;
  if (Array.isArray(content) && content.length === 1) {
    const part = content[0] as JsonObject | null;
    if (part?.type === 'text' && typeof part.text === 'string') {
      return { ...record, content: part.text };
    }
  }
  return record;
}

/** JSON with sorted keys, no null members, and one spelling per number and string (as parsed). */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) return JSON.stringify(String(value));
      return Object.is(value, -0) ? '0' : JSON.stringify(value);
    case 'string':
      // As sent: the provider reads these code points, not a normalized form of them.
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const record = value as Record<string, unknown>;
      const members = Object.keys(record)
        .filter((key) => record[key] !== null && record[key] !== undefined)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
      return `{${members.join(',')}}`;
    }
    default:
      return 'null'; // functions, symbols, bigints never come out of JSON.parse
  }
}
