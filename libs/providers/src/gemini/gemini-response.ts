import { randomUUID } from 'node:crypto';
import {
  GEMINI_POLICY_STOPS,
  isGeminiPolicyStop,
  type JsonObject,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { chatCompletion, type FinishReason, type OpenAiToolCall } from '../core/openai-output';
import { isJsonObject, isNonEmptyString } from '../core/json-shape';
import { idWithSignature } from '../core/tool-call-signature-id';
import { badResponse } from '../core/upstream-http';
import { choiceLogprobs } from './gemini-logprobs';
import { answerSearchQueries, withSearchQueries } from './gemini-grounding';
import { reportedTokens, sumTokens } from '../core/usage';
import {
  isToolPart,
  toolAnswerExtras,
  toolUsePromptTokens,
  withToolAnswerExtras,
  withToolUseTokens,
  type ToolPart,
} from './gemini-tool-answers';

/** Makes the error for an answer of the wrong shape; `what` completes "answered with ...". */
export type RejectAnswer = (what: string) => Error;

const USAGE_COUNTS = [
  'promptTokenCount',
  'toolUsePromptTokenCount',
  'candidatesTokenCount',
  'thoughtsTokenCount',
  'cachedContentTokenCount',
];

/**
 * The IMAGE entries of `candidatesTokensDetails` (a list of {modality, tokenCount}):
 * the output tokens an image model spent on images, priced apart from its text.
 */
function imageCandidateTokens(details: unknown): number {
  return modalityTokens(details, 'IMAGE');
}

/** The tokens of one modality in a list of {modality, tokenCount} (Gemini's ModalityTokenCount). */
function modalityTokens(details: unknown, modality: string): number {
  if (!Array.isArray(details)) return 0;
  const counts: number[] = [];
  for (const entry of details) {
    if (isJsonObject(entry) && entry.modality === modality)
      counts.push(reportedTokens(entry.tokenCount));
  }
  return sumTokens(...counts);
}

/**
 * The prompt's AUDIO tokens sent afresh (`promptTokensDetails` less the AUDIO of
 * `cacheTokensDetails`), which Gemini bills above text (gemini-2.5-flash: $1 per 1M
 * against $0.30); audio read from a context cache is part of the cached tokens, billed as
 * a cache read. At most the input not read from the cache.
 */
function freshAudioTokens(metadata: JsonObject, inputTokens: number, cached: number): number {
  const audio = modalityTokens(metadata.promptTokensDetails, 'AUDIO');
  const cachedAudio = modalityTokens(metadata.cacheTokensDetails, 'AUDIO');
  return Math.min(Math.max(audio - cachedAudio, 0), inputTokens - cached);
}

/**
 * Gemini's usageMetadata in our terms: `promptTokenCount` already includes cached
 * content (reported apart as `cachedContentTokenCount`) and we add the prompt tokens of
 * tool use; thinking tokens are billed as output, so they count as output here, and
 * the candidates' IMAGE tokens are the output's image tokens, the prompt's AUDIO tokens
 * (not read from a cache) the input's audio tokens. Without a single numeric
 * count it is no usage at all (rather than a reported zero).
 */
export function geminiUsage(metadata: unknown): TokenUsage | undefined {
  if (!isJsonObject(metadata)) return undefined;
  if (!USAGE_COUNTS.some((field) => typeof metadata[field] === 'number')) return undefined;
  const inputTokens = sumTokens(
    reportedTokens(metadata.promptTokenCount),
    reportedTokens(metadata.toolUsePromptTokenCount),
  );
  const outputTokens = sumTokens(
    reportedTokens(metadata.candidatesTokenCount),
    reportedTokens(metadata.thoughtsTokenCount),
  );
  // Part of the output, as the cached tokens are of the input.
  const imageOutputTokens = Math.min(
    imageCandidateTokens(metadata.candidatesTokensDetails),
    outputTokens,
  );
  // Part of the input: a larger count is the backend's mistake, not more tokens.
  const cachedInputTokens = Math.min(reportedTokens(metadata.cachedContentTokenCount), inputTokens);
  const audioInputTokens = freshAudioTokens(metadata, inputTokens, cachedInputTokens);
  return {
    inputTokens,
    outputTokens,
    cachedInputTokens,
    ...(audioInputTokens > 0 ? { audioInputTokens } : {}),
    ...(imageOutputTokens > 0 ? { imageOutputTokens } : {}),
    source: 'reported',
  };
}

/**
 * The thinking tokens of a usageMetadata (`thoughtsTokenCount`), at most the output they
 * are part of: OpenAI's `completion_tokens_details.reasoning_tokens`, which the chat and
 * Responses edges report (Responses' `output_tokens_details.reasoning_tokens`).
 */
export function thoughtTokens(metadata: unknown, outputTokens: number): number {
  if (!isJsonObject(metadata)) return 0;
  return Math.min(reportedTokens(metadata.thoughtsTokenCount), outputTokens);
}

/** An OpenAI usage body with its reasoning tokens, when there were any. */
export function withReasoningTokens(usage: JsonObject, tokens: number): JsonObject {
  if (tokens <= 0) return usage;
  const details = isJsonObject(usage.completion_tokens_details)
    ? usage.completion_tokens_details
    : {};
  return { ...usage, completion_tokens_details: { ...details, reasoning_tokens: tokens } };
}

// Gemini's finishReason (Candidate.FinishReason of generateContent), each read on purpose:
// - STOP is a whole answer (tool_calls when it called functions); MAX_TOKENS is `length`.
// - The policy stops (safety, recitation, blocklists, PII, unsupported language, and their
//   image twins) are OpenAI's `content_filter`: the answer was withheld on purpose, as
//   OpenAI's own filter does, and the Messages edge already reads that as a refusal.
// - The ones that mean the answer is broken are FAILED: no client may take what came as a
//   complete answer. A JSON answer is refused as a bad response and a stream ends in an
//   error, as a DeepSeek `insufficient_system_resource` does (core/unfinished-choices.ts).
//   MALFORMED_FUNCTION_CALL and UNEXPECTED_TOOL_CALL: the call the model made is invalid
//   and was dropped, so the text beside it is leftover narration; TOO_MANY_TOOL_CALLS: the
//   system cut the turn off; MISSING_THOUGHT_SIGNATURE: the request lacked a signature, no
//   answer was made; NO_IMAGE and IMAGE_OTHER: the image asked for was not made; OTHER:
//   "all other reasons that stopped the token generation", a stop that is not a finish.
// - A reason Google adds later stays `stop`, as before: every answer must not fail the day a
//   new benign reason appears (a spec holds this).
const FILTERED: ReadonlySet<string> = new Set(['SAFETY', ...GEMINI_POLICY_STOPS]);

const FAILED: ReadonlySet<unknown> = new Set([
  'MALFORMED_FUNCTION_CALL',
  'UNEXPECTED_TOOL_CALL',
  'TOO_MANY_TOOL_CALLS',
  'MISSING_THOUGHT_SIGNATURE',
  'NO_IMAGE',
  'IMAGE_OTHER',
  'OTHER',
]);

/**
 * The finishReason if it means the candidate's answer is broken (see FAILED), else
 * undefined. Only one of the known names is returned, so it may go into a message.
 */
export function failedFinishReason(reason: unknown): string | undefined {
  return FAILED.has(reason) ? (reason as string) : undefined;
}

/**
 * The extras that carry a policy stop's own name (RECITATION, SPII, BLOCKLIST, ...) to the
 * Gemini edge, which would otherwise read OpenAI's `content_filter` back as SAFETY: a Gemini
 * client sees the reason Google gave. SAFETY itself needs none. Only a known name is carried.
 */
export function policyStopExtras(reason: unknown): JsonObject | undefined {
  return isGeminiPolicyStop(reason) ? { google: { finish_reason: reason } } : undefined;
}

/** Gemini's finishReason as OpenAI's; a STOP that called functions is tool_calls. */
export function geminiFinishReason(reason: unknown, calledTools: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (typeof reason === 'string' && FILTERED.has(reason)) return 'content_filter';
  return calledTools ? 'tool_calls' : 'stop';
}

/**
 * A functionCall part as an OpenAI tool call, with the part's thoughtSignature (in
 * extra_content, and in the id where it fits): Gemini 3 signs every call it makes (only the
 * first of parallel calls) and refuses the call back in the history without it. A call
 * without a name or object args is refused.
 */
function toolCallOf(part: JsonObject, reject: RejectAnswer): OpenAiToolCall {
  const call = part.functionCall;
  if (!isJsonObject(call) || !isNonEmptyString(call.name)) {
    throw reject('a functionCall without a name');
  }
  const args = call.args ?? {};
  if (!isJsonObject(args))
    throw reject(`a functionCall to "${call.name}" whose args are not an object`);
  // Gemini names calls only sometimes; clients need an id to answer them by.
  const id = typeof call.id === 'string' ? call.id : `call_${randomUUID().replaceAll('-', '')}`;
  const signature = part.thoughtSignature;
  if (!isNonEmptyString(signature))
    return { id, name: call.name, argumentsJson: JSON.stringify(args) };
  return {
    // In the id as well, the one field every client sends back (see tool-call-signature-id).
    id: idWithSignature(id, signature),
    name: call.name,
    argumentsJson: JSON.stringify(args),
    thoughtSignature: signature,
  };
}

/** What one candidate's parts say, in OpenAI's terms. */
export interface CandidateParts {
  readonly text: string;
  /** The thought summaries' text (parts marked `thought`), which is not the answer. */
  readonly reasoning: string;
  readonly toolCalls: OpenAiToolCall[];
  /** The images the model generated (inlineData parts), as data URLs. */
  readonly images: string[];
  /** The built-in tools' parts (code run, its result), each where it stood in the text. */
  readonly toolParts: ToolPart[];
}

/** A plain type/subtype: anything else could bend the data URL it goes into. */
const MIME_TYPE = /^[\w.+-]+\/[\w.+-]+$/;

/**
 * An inlineData part (an image model's output) as a data URL; undefined for one of the
 * wrong shape, or a thought image (an interim draft, as thought text is not the answer).
 * Its size is the answer's: the JSON body and each stream event are already bounded.
 */
function inlineDataUrl(part: JsonObject): string | undefined {
  const inline = part.inlineData;
  if (!isJsonObject(inline) || part.thought === true) return undefined;
  const { mimeType, data } = inline;
  if (typeof mimeType !== 'string' || !MIME_TYPE.test(mimeType) || !isNonEmptyString(data))
    return undefined;
  return `data:${mimeType};base64,${data}`;
}

/**
 * Text, thought summaries, function calls, generated images and built-in tools' parts
 * (code execution) of one candidate's parts. Parts of no known kind (junk) are left out.
 */
export function candidateParts(
  candidate: JsonObject | undefined,
  reject: RejectAnswer,
): CandidateParts {
  const content = candidate?.content;
  const parts = isJsonObject(content) && Array.isArray(content.parts) ? content.parts : [];
  let text = '';
  let reasoning = '';
  const toolCalls: OpenAiToolCall[] = [];
  const images: string[] = [];
  const toolParts: ToolPart[] = [];
  for (const part of parts) {
    if (!isJsonObject(part)) continue;
    if (isToolPart(part)) toolParts.push({ at: text.length, part });
    const image = inlineDataUrl(part);
    if (image !== undefined) images.push(image);
    if (typeof part.text === 'string') {
      if (part.thought === true) reasoning += part.text;
      else text += part.text;
    }
    // A signature on a text part (Gemini 3 signs the last part of an answer without calls)
    // is left out: only those on function calls are required back, and the canonical
    // format has a place for no other.
    if (part.functionCall !== undefined) toolCalls.push(toolCallOf(part, reject));
  }
  return { text, reasoning, toolCalls, images, toolParts };
}

/**
 * The candidates of a response or of one streamed event, each with the index it answers
 * (with candidateCount above 1 each names its `index`, and they need not come in order: a
 * stream interleaves them). Protobuf's JSON leaves out a zero, so a candidate without an
 * index is candidate 0, wherever it stands in the list. A candidate that is not an object,
 * an index that is not one of the `count` asked for, or one index twice (`within` says
 * where: one event, one answer), is refused.
 */
export function candidatesByIndex(
  body: JsonObject,
  count: number,
  reject: RejectAnswer,
  within: string,
): { readonly index: number; readonly candidate: JsonObject }[] {
  const candidates = body.candidates;
  if (candidates === undefined) return [];
  if (!Array.isArray(candidates)) throw reject('"candidates" that is not a list');
  const seen = new Set<number>();
  return candidates.map((candidate: unknown) => {
    if (!isJsonObject(candidate)) throw reject('a candidate that is not an object');
    const index = candidate.index ?? 0;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count) {
      throw reject(`a candidate index ${JSON.stringify(index)} outside the ${count} asked for`);
    }
    if (seen.has(index)) throw reject(`candidate index ${index} twice ${within}`);
    seen.add(index);
    return { index, candidate };
  });
}

/** Why Gemini refused the prompt outright, if it did. */
export function blockReason(body: JsonObject): string | undefined {
  const feedback = body.promptFeedback;
  return isJsonObject(feedback) && typeof feedback.blockReason === 'string'
    ? feedback.blockReason
    : undefined;
}

/**
 * A GenerateContentResponse as an OpenAI chat.completion; undefined if it has no usage,
 * or neither a candidate nor a block reason. Parts of the wrong shape are a bad response.
 * Each candidate (several when candidateCount, `count`, asked for them) is the choice of
 * its own `index` (absent: 0), the choices in index order whatever order they came in.
 */
export function fromGeminiResponse(
  body: JsonObject,
  model: string,
  backendName: string,
  count = 1,
): { completion: JsonObject; usage: TokenUsage } | undefined {
  const reject: RejectAnswer = (what) => badResponse(backendName, what);
  const candidates = candidatesByIndex(body, count, reject, 'in one answer').sort(
    (a, b) => a.index - b.index,
  );
  // A prompt blocked outright comes back with no candidate at all.
  if (candidates.length === 0 && !blockReason(body)) return undefined;
  const tokens = geminiUsage(body.usageMetadata);
  if (!tokens) return undefined;
  const usage = withSearchQueries(tokens, answerSearchQueries(body));
  const id = typeof body.responseId === 'string' ? body.responseId : `chatcmpl-${randomUUID()}`;
  const served = typeof body.modelVersion === 'string' ? body.modelVersion : model;
  // One broken candidate breaks the answer: its choice cannot be relayed as finished.
  for (const { candidate } of candidates) {
    const failed = failedFinishReason(candidate.finishReason);
    if (failed) throw reject(`a candidate finished with ${failed}`);
  }
  const completionOf = (one: JsonObject | undefined) => {
    const { text, reasoning, toolCalls, images, toolParts } = candidateParts(one, reject);
    const finishReason = one
      ? geminiFinishReason(one.finishReason, toolCalls.length > 0)
      : 'content_filter';
    const completion = chatCompletion({
      id,
      model: served,
      text,
      toolCalls,
      finishReason,
      usage,
      // Gemini signs its thoughts on the parts themselves (thoughtSignature), nothing a
      // client could send back as a thinking block: the summaries are text alone, and a
      // function call's signature travels on the tool call.
      reasoning: { text: reasoning, blocks: [] },
      images,
    });
    const [choice] = completion.choices as JsonObject[];
    const logprobs = choiceLogprobs(one);
    if (logprobs) choice.logprobs = logprobs;
    withToolAnswerExtras(choice.message as JsonObject, toolAnswerExtras(one, toolParts));
    withToolAnswerExtras(choice.message as JsonObject, policyStopExtras(one?.finishReason));
    completion.usage = withToolUseTokens(
      withReasoningTokens(
        completion.usage as JsonObject,
        thoughtTokens(body.usageMetadata, usage.outputTokens),
      ),
      toolUsePromptTokens(body.usageMetadata),
    );
    return completion;
  };
  const completion = completionOf(candidates[0]?.candidate);
  if (candidates.length > 1 || (candidates[0] && candidates[0].index !== 0)) {
    completion.choices = candidates.map(({ index, candidate }, at) => {
      const [choice] = (at === 0 ? completion : completionOf(candidate)).choices as JsonObject[];
      return { ...choice, index };
    });
  }
  return { completion, usage };
}
