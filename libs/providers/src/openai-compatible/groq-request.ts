import type { JsonObject } from '@aigw/contracts/data-plane';
import { isJsonObject } from '../core/json-shape';

/**
 * OpenAI's newer hint fields, which change nothing in an answer and which Groq does not
 * define: it answers 400 to any field it does not define ("property 'prompt_cache_key' is
 * unsupported"), and the Responses edge forwards these from every Codex request. Groq
 * defines `user` and `service_tier`, which go on.
 */
const OPENAI_HINTS = [
  'prompt_cache_key',
  'prompt_cache_retention',
  'safety_identifier',
  'verbosity',
] as const;

const GROQ_TIERS: ReadonlySet<string> = new Set(['auto', 'on_demand', 'flex', 'performance']);

/**
 * Groq's tier for a canonical `service_tier` (OpenAI's terms): Groq's tiers are auto,
 * on_demand (what it serves when none is given, OpenAI's default), flex and performance, and
 * any other value is a 400. OpenAI's priority and scale have no counterpart: undefined, the
 * tier left out (and reported, provider-fields). Groq's own names pass as they are.
 */
export function groqServiceTier(tier: string): string | undefined {
  if (tier === 'default') return 'on_demand';
  return GROQ_TIERS.has(tier) ? tier : undefined;
}

/**
 * A chat body Groq takes: its tier by Groq's name (groqServiceTier), without OpenAI's hints
 * it refuses (OPENAI_HINTS), and its messages without `name`, which Groq answers 400 to
 * (its OpenAI compatibility page) and which multi-agent frameworks set on every turn. A
 * participant's name changes nothing Groq's models read. The same object when nothing
 * changes.
 */
export function groqChatBody(body: JsonObject): JsonObject {
  const named = Array.isArray(body.messages) && body.messages.some(isNamed);
  const tier = typeof body.service_tier === 'string' ? body.service_tier : undefined;
  const retiered = tier !== undefined && groqServiceTier(tier) !== tier;
  if (!named && !retiered && !OPENAI_HINTS.some((field) => field in body)) return body;
  const copy = { ...body };
  for (const field of OPENAI_HINTS) delete copy[field];
  if (retiered) {
    const groqTier = groqServiceTier(tier);
    if (groqTier === undefined) delete copy.service_tier;
    else copy.service_tier = groqTier;
  }
  if (named) copy.messages = (body.messages as unknown[]).map(unnamed);
  return copy;
}

function isNamed(message: unknown): boolean {
  return isJsonObject(message) && 'name' in message;
}

function unnamed(message: unknown): unknown {
  if (!isNamed(message)) return message;
  const { name: _name, ...rest } = message as JsonObject;
  return rest;
}
