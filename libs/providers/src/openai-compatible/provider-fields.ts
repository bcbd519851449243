import type {
  JsonObject,
  Operation,
  ProviderCall,
  RequestSetting,
} from '@aigw/contracts/data-plane';
import type { OpenAiWireEndpoint } from '../core/openai-wire';
import { OPENAI_SETTINGS, type SettingsTaken } from '../core/settings-left-out';
import { deepseekChatBody } from './deepseek-request';
import { groqChatBody, groqServiceTier } from './groq-request';
import { mistralChatBody, mistralEmbeddingsBody } from './mistral-request';

// What each provider of the OpenAI-compatible family takes of OpenAI's chat request, where
// it differs from OpenAI, by provider, from each one's API reference: the one place to look.
// Self-hosted kinds (vllm, kserve, openai-compatible) are taken to follow OpenAI's.

/** The wire's per-provider switches (openai-wire), and the chat body reshaped before it. */
type ProviderRules = Pick<
  OpenAiWireEndpoint,
  | 'maxTokensAsCompletionTokens'
  | 'completionTokensAsMaxTokens'
  | 'leavesOutServiceTier'
  | 'refusesStreamOptions'
  | 'keepsToolTurnReasoning'
  | 'takesThinkingToggle'
  | 'echoesPrefix'
  | 'splitsThinkingChunks'
> & {
  /** The chat body in the form the provider takes; the same object when nothing changes. */
  readonly chatBody?: (body: JsonObject) => JsonObject;
  /** Likewise its embeddings body. */
  readonly embeddingsBody?: (body: JsonObject) => JsonObject;
};

/**
 * `max_tokens` vs `max_completion_tokens`: OpenAI's reasoning models refuse `max_tokens`.
 * Mistral, DeepSeek and Together define `max_tokens` alone: Mistral refuses the unknown name
 * (422); DeepSeek and Together do not cap an answer by it, while the budget hold assumed the
 * cap. Groq and vLLM define both.
 *
 * `service_tier`: Mistral, DeepSeek and Together define none (Mistral refuses it, 422).
 * OpenAI and Groq define it.
 */
const RULES: ReadonlyMap<string, ProviderRules> = new Map<string, ProviderRules>([
  ['openai', { maxTokensAsCompletionTokens: true }],
  [
    'mistral',
    {
      completionTokensAsMaxTokens: true,
      leavesOutServiceTier: true,
      refusesStreamOptions: true,
      // Its answer to a `prefix: true` message (mistral-turn-order) starts with the prefix.
      echoesPrefix: true,
      // Its reasoning models answer thinking as content chunk lists.
      splitsThinkingChunks: true,
      // seed's name, OpenAI's hint fields, message fields by role, tool call ids, turn order.
      chatBody: mistralChatBody,
      // dimensions' name, and no user.
      embeddingsBody: mistralEmbeddingsBody,
    },
  ],
  [
    'deepseek',
    // keepsToolTurnReasoning: its thinking mode answers 400 without a tool-call turn's
    // reasoning_content. The Responses edge (ingress reasoning-text-back) gives a DeepSeek
    // answer's reasoning items the text, so its clients can send it back.
    // takesThinkingToggle: `thinking` as its own on/off switch (thinking mode is on by default).
    // chatBody: a json_schema response format, which it refuses, as its JSON mode.
    {
      completionTokensAsMaxTokens: true,
      leavesOutServiceTier: true,
      keepsToolTurnReasoning: true,
      takesThinkingToggle: true,
      chatBody: deepseekChatBody,
    },
  ],
  ['together', { completionTokensAsMaxTokens: true, leavesOutServiceTier: true }],
  // A message's `name`, which Groq refuses (400).
  ['groq', { chatBody: groqChatBody }],
]);

const NO_RULES: ProviderRules = {};

/** How the wire shapes a call to this provider's chat endpoint (OpenAI's own where unlisted). */
export function providerWireRules(
  provider: string,
): Omit<ProviderRules, 'chatBody' | 'embeddingsBody'> {
  const {
    chatBody: _chatBody,
    embeddingsBody: _embeddingsBody,
    ...wire
  } = RULES.get(provider) ?? NO_RULES;
  return wire;
}

/** The provider's reshaping of a chat or embeddings body, if it needs one. */
export function providerBody(
  provider: string,
  operation: Operation,
): ((body: JsonObject) => JsonObject) | undefined {
  const rules = RULES.get(provider);
  if (operation === 'chat') return rules?.chatBody;
  return operation === 'embeddings' ? rules?.embeddingsBody : undefined;
}

/** Whether a call's provider takes the tier it asks for (Groq: one it has, groq-request). */
function takesServiceTier(call: ProviderCall): boolean {
  const provider = call.target.provider;
  if (RULES.get(provider)?.leavesOutServiceTier === true) return false;
  const tier = call.request.body.service_tier;
  return provider !== 'groq' || typeof tier !== 'string' || groqServiceTier(tier) !== undefined;
}

const OPENAI_SETTINGS_WITHOUT_TIER: ReadonlySet<RequestSetting> = new Set(
  [...OPENAI_SETTINGS].filter((setting) => setting !== 'service_tier'),
);

/** The settings a call of this family takes: OpenAI's, less a tier its provider lacks. */
export const openAiCompatibleSettings: SettingsTaken = (call) =>
  takesServiceTier(call) ? OPENAI_SETTINGS : OPENAI_SETTINGS_WITHOUT_TIER;

/**
 * Operations a provider's API lacks: called anyway, its 404 reads as a backend missing its
 * model (failed over, a 502, and a few such calls cool the backend down for every chat).
 * Mistral and Groq have no text completions (Mistral's FIM is another route), Groq and
 * DeepSeek no embeddings. The router filters the rarer operations (audio, images, ...).
 */
const MISSING_OPERATIONS: ReadonlyMap<string, ReadonlySet<Operation>> = new Map<
  string,
  ReadonlySet<Operation>
>([
  ['mistral', new Set<Operation>(['completions'])],
  ['groq', new Set<Operation>(['completions', 'embeddings'])],
  ['deepseek', new Set<Operation>(['completions', 'embeddings'])],
]);

/**
 * Whether a backend of `provider` at the resolved `base` URL serves `operation`. DeepSeek
 * serves completions (FIM) under its beta base URL alone (https://api.deepseek.com/beta).
 */
export function offersOperation(provider: string, operation: Operation, base: string): boolean {
  if (provider === 'deepseek' && operation === 'completions') return base.endsWith('/beta');
  return MISSING_OPERATIONS.get(provider)?.has(operation) !== true;
}
