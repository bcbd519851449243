import {
  DataPlaneError,
  DataPlaneErrorCode,
  reasoningTextOf,
  type JsonObject,
  type ThinkingBlock,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { firstChoice } from '../../domain/canonical-answer';
import { encodeReasoning, thinkingBlocksOf } from '../../responses/domain/encrypted-reasoning';
import { blocksToKeep } from '../../responses/domain/reasoning-text-back';
import type { GeminiRequestFacts } from './gemini-request';
import { contentText } from '../../domain/content-text';
import { refusalText } from '../../domain/refusal-text';
import {
  candidateMetadata,
  policyStopOf,
  textAndToolParts,
  toolUseTokensOf,
} from './gemini-tool-parts';
import { logprobsFields } from './gemini-logprobs';
import { unwrappedAnswer } from './gemini-json-root';
import { imageParts } from './gemini-image-parts';

// OpenAI chat answers (the canonical format every backend's answer arrives in) as
// Gemini GenerateContentResponse objects.

export type GeminiFinishReason = 'STOP' | 'MAX_TOKENS' | 'SAFETY' | 'OTHER';

/**
 * A candidate's finishReason: a filtered answer (`content_filter`, not the model's own
 * refusal) closes with the policy stop its Gemini backend named (RECITATION, SPII, ...)
 * where it named one, as Gemini would have answered; else as geminiFinishReason reads it.
 */
export function candidateFinishReason(
  finishReason: unknown,
  refused: boolean,
  policyStop: string | undefined,
): string {
  if (!refused && finishReason === 'content_filter' && policyStop !== undefined) return policyStop;
  return geminiFinishReason(finishReason, refused);
}

/**
 * OpenAI's finish_reason as Gemini's: a turn that called functions is a STOP too. A model's
 * refusal (OpenAI's `refusal`, which finishes with "stop") is SAFETY, Gemini's reason for
 * an answer withheld on safety grounds, so a client can tell it from an answer.
 */
export function geminiFinishReason(finishReason: unknown, refused = false): GeminiFinishReason {
  if (refused) return 'SAFETY';
  switch (finishReason) {
    case 'length':
      return 'MAX_TOKENS';
    case 'content_filter':
      return 'SAFETY';
    case 'stop':
    case 'tool_calls':
    case 'function_call':
    case null:
    case undefined:
      return 'STOP';
    default:
      return 'OTHER';
  }
}

/** The reasoning tokens an OpenAI usage object reports, part of its completion tokens. */
export function reasoningTokensOf(usage: unknown): number {
  const details = (usage as JsonObject | null | undefined)?.completion_tokens_details;
  const tokens = (details as JsonObject | null | undefined)?.reasoning_tokens;
  return typeof tokens === 'number' && Number.isFinite(tokens) && tokens > 0 ? tokens : 0;
}

/**
 * Our usage in Gemini's terms: `promptTokenCount` includes the cached tokens (reported
 * apart as `cachedContentTokenCount`), as our `inputTokens` does; the thinking tokens are
 * `thoughtsTokenCount`, outside `candidatesTokenCount`, where our output counts both.
 * The built-in tools' prompt tokens (search results, fetched pages) are input we bill,
 * and Gemini reports them apart from the prompt's (`toolUsePromptTokenCount`), in its total.
 */
export function geminiUsageMetadata(
  usage: TokenUsage,
  reasoningTokens = 0,
  toolUseTokens = 0,
): JsonObject {
  const thoughts = Math.min(reasoningTokens, usage.outputTokens);
  const toolUse = Math.min(toolUseTokens, usage.inputTokens);
  const metadata: JsonObject = {
    promptTokenCount: usage.inputTokens - toolUse,
    candidatesTokenCount: usage.outputTokens - thoughts,
    totalTokenCount: usage.inputTokens + usage.outputTokens,
  };
  if (usage.cachedInputTokens > 0) metadata.cachedContentTokenCount = usage.cachedInputTokens;
  if (toolUse > 0) metadata.toolUsePromptTokenCount = toolUse;
  if (thoughts > 0) metadata.thoughtsTokenCount = thoughts;
  return metadata;
}

/** Tool arguments as the object Gemini's `args` must be. */
export function toolArgs(argumentsJson: unknown, toolName: string): JsonObject {
  if (argumentsJson === undefined || argumentsJson === null || argumentsJson === '') return {};
  if (typeof argumentsJson === 'object' && !Array.isArray(argumentsJson)) {
    return argumentsJson as JsonObject;
  }
  if (typeof argumentsJson === 'string') {
    try {
      const parsed: unknown = JSON.parse(argumentsJson);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
        return parsed as JsonObject;
    } catch {
      // reported below
    }
  }
  throw new DataPlaneError(
    DataPlaneErrorCode.UpstreamBadResponse,
    `The backend called function '${toolName}' with arguments that are not a JSON object`,
  );
}

/**
 * A call's args, in an answer whose choice ended with `finishReason`. One the token limit
 * cut off (`length`) may end mid-JSON, which its MAX_TOKENS tells: its args are {} then,
 * as Anthropic's edge answers it, rather than a 502 the client retries, billed and cut the
 * same way. Arguments that do not parse in an answer that was not cut stay the backend's fault.
 */
export function callArgs(
  argumentsJson: unknown,
  toolName: string,
  finishReason: unknown,
): JsonObject {
  if (finishReason !== 'length') return toolArgs(argumentsJson, toolName);
  try {
    return toolArgs(argumentsJson, toolName);
  } catch {
    return {};
  }
}

/** A canonical tool call's thought signature (Gemini's own, carried back and forth). */
export function thoughtSignatureOf(call: JsonObject): string | undefined {
  const extra = call.extra_content as JsonObject | undefined;
  const google = extra?.google as JsonObject | undefined;
  const signature = google?.thought_signature;
  return typeof signature === 'string' && signature !== '' ? signature : undefined;
}

/**
 * A backend's signed thinking blocks (Claude's) as a thoughtSignature for the turn's first
 * function call: Anthropic refuses a tool-use continuation without them, a stateless
 * gateway keeps nothing, and Gemini clients send a call's signature back with it, as
 * Gemini 3 requires. Encoded as the Responses API's `encrypted_content` is (not secret:
 * the signatures are the provider's, the text the summary). Unsigned blocks (a backend
 * that reasons without signing) are nothing a backend checks, and are left out.
 */
export function reasoningBlocksSignature(blocks: readonly ThinkingBlock[]): string | undefined {
  const signed = blocks.filter(
    (block) => block.type === 'redacted_thinking' || block.signature !== '',
  );
  return signed.length === 0 ? undefined : encodeReasoning(signed);
}

/**
 * The thoughtSignature of a turn's first function call: the backend's signed blocks
 * (reasoningBlocksSignature), else, for a backend that refuses a tool-call turn sent back
 * without its reasoning text (DeepSeek's thinking mode, reasoning-text-back), that text as
 * one unsigned block. A Gemini client sends the call's signature back but no thought part
 * as input, so the signature is the one place the text can come back from.
 */
export function callReasoningSignature(
  blocks: readonly ThinkingBlock[],
  text: string,
  facts: Pick<GeminiRequestFacts, 'reasoningTextBack'>,
): string | undefined {
  const signed = reasoningBlocksSignature(blocks);
  if (signed !== undefined || facts.reasoningTextBack !== true) return signed;
  const unsigned = blocksToKeep([], text, true);
  return unsigned.length === 0 ? undefined : encodeReasoning(unsigned);
}

/** A complete canonical tool call as a functionCall part. */
export function functionCallPart(
  id: unknown,
  name: string,
  args: JsonObject,
  signature?: string,
): JsonObject {
  const call: JsonObject = { name, args };
  // The id comes back on the client's functionResponse, which finds its call by it.
  if (typeof id === 'string' && id !== '') call.id = id;
  return signature === undefined
    ? { functionCall: call }
    : { functionCall: call, thoughtSignature: signature };
}

/** `responseId`: the backend's answer id, else the request's. */
export function responseIdOf(id: unknown, fallback: string): string {
  return typeof id === 'string' && id !== '' ? id : fallback;
}

/**
 * A complete OpenAI chat.completion as a GenerateContentResponse: each choice a candidate
 * (several when candidateCount asked for them, as `n`), in the choices' order.
 */
export function toGeminiResponse(
  completion: JsonObject,
  usage: TokenUsage,
  facts: GeminiRequestFacts,
  requestId: string,
): JsonObject {
  firstChoice(completion); // an answer without one is the backend's fault
  const choices = completion.choices as JsonObject[];
  return {
    candidates: choices.map((choice, position) => candidateOf(choice, position, facts)),
    usageMetadata: geminiUsageMetadata(
      usage,
      reasoningTokensOf(completion.usage),
      toolUseTokensOf(completion.usage),
    ),
    modelVersion: facts.model,
    responseId: responseIdOf(completion.id, requestId),
  };
}

/** One choice as a candidate, under the choice's own index. */
function candidateOf(choice: JsonObject, position: number, facts: GeminiRequestFacts): JsonObject {
  const message = (choice.message ?? {}) as JsonObject;
  const parts: JsonObject[] = [];
  const reasoning = reasoningTextOf(message);
  if (facts.includeThoughts && reasoning !== undefined)
    parts.push({ text: reasoning, thought: true });
  // A refusal is text to Gemini's clients (it has no refusal part), after any text, as a
  // stream sends it; finishReason says it refused.
  const refusal = refusalText(message);
  // The built-in tools' parts (code run, its result) go back between the texts.
  const content = contentText(message.content);
  const text = facts.wrappedJson && refusal === '' ? unwrappedAnswer(content) : content;
  parts.push(...textAndToolParts(text + refusal, message));
  // The images an image model made, after its text.
  parts.push(...imageParts(message.images));
  const toolCalls = Array.isArray(message.tool_calls) ? (message.tool_calls as JsonObject[]) : [];
  let reasoningSignature = callReasoningSignature(
    thinkingBlocksOf(message.thinking_blocks),
    reasoning ?? '',
    facts,
  );
  for (const call of toolCalls) {
    const fn = (call.function ?? {}) as JsonObject;
    const name = typeof fn.name === 'string' ? fn.name : '';
    const signature = thoughtSignatureOf(call) ?? reasoningSignature;
    reasoningSignature = undefined;
    const args = callArgs(fn.arguments, name, choice.finish_reason);
    parts.push(functionCallPart(call.id, name, args, signature));
  }
  // Clients commonly read parts[0].text: an empty answer still has its text part.
  if (parts.length === 0) parts.push({ text: '' });
  return {
    content: { role: 'model', parts },
    finishReason: candidateFinishReason(
      choice.finish_reason,
      refusal !== '',
      policyStopOf(message),
    ),
    index: typeof choice.index === 'number' ? choice.index : position,
    ...candidateMetadata(message),
    ...logprobsFields(choice.logprobs),
  };
}
