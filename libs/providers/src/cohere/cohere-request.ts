import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type RequestSetting,
} from '@aigw/contracts/data-plane';
import {
  audioRefused,
  documentsRefused,
  type ChatPart,
  type ChatPrompt,
  type ChatTurn,
  toolOutputText,
} from '../core/chat-request';
import { DOUBLING_EFFORT_BUDGETS, thinkingBudget } from '../core/reasoning';
import { cohereResponseFormat } from './cohere-response-format';

function content(parts: readonly ChatPart[]): string | JsonObject[] {
  if (parts.every((part) => part.kind === 'text')) return parts.map((part) => part.text).join('');
  return parts.map((part) => {
    switch (part.kind) {
      case 'text':
        return { type: 'text', text: part.text };
      case 'image':
        return {
          type: 'image_url',
          image_url: { url: `data:${part.mediaType};base64,${part.base64}` },
        };
      case 'image-url':
        return { type: 'image_url', image_url: { url: part.url } };
      case 'document':
      case 'document-url':
        throw documentsRefused('Cohere');
      case 'audio':
        throw audioRefused('Cohere');
    }
  });
}

function message(turn: ChatTurn): JsonObject {
  switch (turn.role) {
    case 'user':
      return { role: 'user', content: content(turn.parts) };
    case 'assistant': {
      // The turn's thinking blocks are not sent: Cohere takes thinking items back but asks
      // for none, and blocks from another provider's model would pass for this one's.
      const out: JsonObject = { role: 'assistant' };
      if (turn.toolCalls.length > 0) {
        // Cohere refuses text content beside tool calls (400): the text before a call is
        // what Cohere calls the turn's tool plan.
        const plan = turn.parts.map((part) => (part.kind === 'text' ? part.text : '')).join('');
        if (plan.length > 0) out.tool_plan = plan;
      } else {
        const text = content(turn.parts);
        if (text.length > 0) out.content = text;
      }
      if (turn.toolCalls.length > 0) {
        out.tool_calls = turn.toolCalls.map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: call.argumentsJson },
        }));
      }
      return out;
    }
    case 'tool':
      return { role: 'tool', tool_call_id: turn.toolCallId, content: toolOutputText(turn) };
  }
}

// Cohere takes p only within these bounds and refuses the request otherwise; OpenAI's
// range is 0 to 1, and clients often send top_p: 1 to mean "no cut-off".
const MIN_P = 0.01;
const MAX_P = 0.99;

// Cohere's k is a whole number of at most 500 (0 turns k-sampling off) and it refuses the
// request otherwise; a larger top_k is kept to 500, as top_p is kept within p's bounds.
const MAX_K = 500;

/** A client's top_k (provider_extras) as Cohere's k; one that is not whole is the 400. */
function topK(value: number): number {
  if (!Number.isInteger(value)) {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      'provider_extras.top_k must be a whole number for a Cohere model',
      { param: 'top_k' },
    );
  }
  return Math.min(MAX_K, value);
}

// Cohere takes penalties only in 0 to 1 (OpenAI's are -2 to 2) and refuses the request
// otherwise; a negative one, once clamped, is 0 and not sent.
function penalty(value: number | undefined): number | undefined {
  const clamped = value === undefined ? 0 : Math.min(1, Math.max(0, value));
  return clamped === 0 ? undefined : clamped;
}

/**
 * The `thinking` field for the reasoning asked for, which Cohere's reasoning models
 * (command-a-reasoning) take; undefined, so nothing is sent, for the model's default.
 */
function thinking(prompt: ChatPrompt): JsonObject | undefined {
  // Cohere documents no budgets of its own for efforts.
  const budget = thinkingBudget(prompt.reasoning, DOUBLING_EFFORT_BUDGETS);
  if (budget === undefined) return undefined;
  return budget === 0 ? { type: 'disabled' } : { type: 'enabled', token_budget: budget };
}

/**
 * The settings a v2 /chat request takes: top_p as `p` and a client's top_k (provider_extras)
 * as `k`; no logit bias, no Gemini safety settings. Its embeddings take none.
 */
export const COHERE_CHAT_SETTINGS: ReadonlySet<RequestSetting> = new Set([
  'temperature',
  'top_p',
  'top_k',
  'seed',
  'presence_penalty',
  'frequency_penalty',
]);

/** The v2 /chat body for an OpenAI chat request. */
export function toCohereRequest(prompt: ChatPrompt, model: string, stream: boolean): JsonObject {
  const body: JsonObject = {
    model,
    messages: [
      ...prompt.system.map((text) => ({ role: 'system', content: text })),
      ...prompt.turns.map(message),
    ],
    stream,
  };
  // Cohere's tool_choice is only REQUIRED or NONE; naming one function is REQUIRED with
  // only that function offered.
  const choice = prompt.toolChoice;
  const tools =
    choice?.kind === 'function'
      ? prompt.tools.filter((tool) => tool.name === choice.name)
      : prompt.tools;
  if (tools.length > 0) {
    body.tools = tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        parameters: tool.parameters,
      },
    }));
    if (choice?.kind === 'required' || choice?.kind === 'function') body.tool_choice = 'REQUIRED';
    if (choice?.kind === 'none') body.tool_choice = 'NONE';
  }
  if (prompt.maxTokens !== undefined) body.max_tokens = prompt.maxTokens;
  if (prompt.stop.length > 0) body.stop_sequences = prompt.stop;
  if (prompt.temperature !== undefined) body.temperature = prompt.temperature;
  if (prompt.topP !== undefined) body.p = Math.min(MAX_P, Math.max(MIN_P, prompt.topP));
  if (prompt.topK !== undefined) body.k = topK(prompt.topK);
  if (prompt.seed !== undefined) body.seed = prompt.seed;
  const frequencyPenalty = penalty(prompt.frequencyPenalty);
  if (frequencyPenalty !== undefined) body.frequency_penalty = frequencyPenalty;
  const presencePenalty = penalty(prompt.presencePenalty);
  if (presencePenalty !== undefined) body.presence_penalty = presencePenalty;
  const responseFormat = cohereResponseFormat(prompt.responseFormat);
  if (responseFormat) body.response_format = responseFormat;
  const reasoning = thinking(prompt);
  if (reasoning) body.thinking = reasoning;
  return body;
}
