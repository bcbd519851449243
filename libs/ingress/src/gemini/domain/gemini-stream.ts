import {
  reasoningTextOf,
  type JsonObject,
  type ThinkingBlock,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { refusalText } from '../../domain/refusal-text';
import { thinkingBlocksOf } from '../../responses/domain/encrypted-reasoning';
import type { GeminiRequestFacts } from './gemini-request';
import {
  callArgs,
  candidateFinishReason,
  functionCallPart,
  geminiUsageMetadata,
  callReasoningSignature,
  reasoningTokensOf,
  responseIdOf,
  thoughtSignatureOf,
  toolArgs,
} from './gemini-response';
import {
  candidateMetadata,
  policyStopOf,
  textAndToolParts,
  toolUseTokensOf,
} from './gemini-tool-parts';
import { candidateLogprobs } from './gemini-logprobs';
import { unwrappedAnswer } from './gemini-json-root';
import { imageParts } from './gemini-image-parts';

/** A tool call whose arguments are still arriving. */
interface OpenCall {
  id: unknown;
  name: string;
  args: string;
  signature?: string;
}

/** Where one choice (one of Gemini's candidates) stands in the stream. */
interface ChoiceState {
  /** Its tool calls by index, each held whole until the choice finishes. */
  readonly calls: Map<number, OpenCall>;
  /** The index of the call that began last: a fragment naming no index continues it. */
  lastCall: number;
  finishReason: unknown;
  /** The policy stop (RECITATION, SPII, ...) a Gemini backend named with its finish. */
  policyStop: string | undefined;
  /** The model refused (its refusal went out as text): the candidate closes with SAFETY. */
  refused: boolean;
  /** Signed thinking blocks not yet given to a function call (see the JSON answer). */
  thinking: ThinkingBlock[];
  /** The reasoning text since the last block: a block's signature may come without it. */
  reasoningText: string;
  /**
   * The answer's JSON so far, held whole when its schema was wrapped (facts.wrappedJson):
   * its unwrapped value goes out when the choice finishes.
   */
  heldJson: string;
  /** The chosen tokens' log probabilities so far, summed, and how many: avgLogprobs. */
  logprobSum: number;
  logprobSteps: number;
}

/**
 * A choice's index: its own when it names one (n > 1), else its place in the chunk.
 * Unlike Gemini's candidates (protobuf's JSON leaves a zero index out, see the provider's
 * candidatesByIndex), OpenAI chunks always name the index: the place is only a fallback for
 * a backend that leaves it out, and 0 for the lone choice of n = 1.
 */
function choiceIndex(choice: JsonObject, position: number): number {
  const index = choice.index;
  return typeof index === 'number' && Number.isSafeInteger(index) && index >= 0 ? index : position;
}

/**
 * Turns a stream of OpenAI chat.completion.chunk objects into Gemini's stream: each
 * event a partial GenerateContentResponse. Text and thought summaries go out as they
 * come; a function call goes out whole, as Gemini sends it, once its arguments are
 * complete: when the choice finishes (or the stream ends), its calls go out in index
 * order. A backend may interleave the fragments of parallel calls (call 0, call 1, call 0
 * again), so a call that begins completes none before it. Each choice is the candidate
 * of its index (several when candidateCount asked for them, interleaved as they came);
 * the last event carries every candidate's finishReason and the usage, which is known
 * only when the stream has ended.
 */
export class GeminiStreamTranslator {
  private responseId: string | undefined;
  private readonly choices = new Map<number, ChoiceState>();
  private reasoningTokens = 0;
  /** The built-in tools' prompt tokens, as the backend's answer reported them. */
  private toolUseTokens = 0;

  constructor(
    private readonly facts: GeminiRequestFacts,
    private readonly requestId: string,
  ) {}

  /** The events one chunk produces (often one, sometimes none). */
  push(chunk: JsonObject): JsonObject[] {
    this.responseId ??= responseIdOf(chunk.id, this.requestId);
    if (chunk.usage !== undefined && chunk.usage !== null) {
      this.reasoningTokens = Math.max(this.reasoningTokens, reasoningTokensOf(chunk.usage));
      this.toolUseTokens = Math.max(this.toolUseTokens, toolUseTokensOf(chunk.usage));
    }
    const choices = Array.isArray(chunk.choices) ? (chunk.choices as unknown[]) : [];
    const candidates: JsonObject[] = [];
    choices.forEach((choice, position) => {
      if (typeof choice !== 'object' || choice === null || Array.isArray(choice)) return;
      const index = choiceIndex(choice as JsonObject, position);
      const state = this.choiceAt(index);
      const parts = this.choiceParts(state, choice as JsonObject);
      // groundingMetadata and urlContextMetadata go out on the event they came with, as
      // do the log probabilities of the chunk's tokens.
      const metadata = candidateMetadata((choice as JsonObject).delta);
      const logprobsResult = chunkLogprobs(state, (choice as JsonObject).logprobs);
      if (logprobsResult) metadata.logprobsResult = logprobsResult;
      if (parts.length > 0 || Object.keys(metadata).length > 0) {
        candidates.push({ ...candidate(index, parts), ...metadata });
      }
    });
    return candidates.length === 0 ? [] : [this.event(candidates)];
  }

  /** The closing event, once the stream ended cleanly and its usage is known. */
  finish(usage: TokenUsage): JsonObject[] {
    if (this.choices.size === 0) this.choiceAt(0);
    const candidates = [...this.choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, state]) => ({
        ...candidate(index, [...heldAnswer(state), ...this.flushCalls(state)]),
        finishReason: closingFinishReason(state),
        ...(state.logprobSteps > 0 ? { avgLogprobs: state.logprobSum / state.logprobSteps } : {}),
      }));
    const closing = this.event(candidates);
    closing.usageMetadata = geminiUsageMetadata(usage, this.reasoningTokens, this.toolUseTokens);
    return [closing];
  }

  /** The parts one choice's delta makes. */
  private choiceParts(state: ChoiceState, choice: JsonObject): JsonObject[] {
    const delta = (choice.delta ?? {}) as JsonObject;
    const parts: JsonObject[] = [];
    const reasoning = reasoningTextOf(delta);
    if (reasoning !== undefined && this.facts.includeThoughts) {
      parts.push({ text: reasoning, thought: true });
    }
    if (reasoning !== undefined) state.reasoningText += reasoning;
    for (const block of thinkingBlocksOf(delta.thinking_blocks)) thinkingBlock(state, block);
    this.toolUseTokens = Math.max(this.toolUseTokens, toolUseTokensOf(delta));
    // The built-in tools' parts (code run, its result) go out between the texts.
    let content = typeof delta.content === 'string' ? delta.content : '';
    if (this.facts.wrappedJson) {
      state.heldJson += content;
      content = '';
    }
    const visible = textAndToolParts(content, delta);
    const refusal = refusalText(delta);
    // Text after calls goes out after them, as it came: calls whose arguments are whole
    // by now are done (a call still mid-arguments keeps them all waiting for the finish).
    if ((visible.length > 0 || refusal !== '') && state.calls.size > 0 && callsWhole(state)) {
      parts.push(...this.flushCalls(state));
    }
    parts.push(...visible, ...imageParts(delta.images));
    if (refusal !== '') {
      state.refused = true;
      parts.push({ text: refusal });
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls as JsonObject[]) this.toolCallDelta(state, call);
    }
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) {
      state.finishReason = choice.finish_reason;
      state.policyStop = policyStopOf(delta);
      parts.push(...heldAnswer(state), ...this.flushCalls(state));
    }
    return parts;
  }

  private choiceAt(index: number): ChoiceState {
    let state = this.choices.get(index);
    if (!state) {
      state = {
        calls: new Map(),
        lastCall: -1,
        finishReason: null,
        policyStop: undefined,
        refused: false,
        thinking: [],
        reasoningText: '',
        heldJson: '',
        logprobSum: 0,
        logprobSteps: 0,
      };
      this.choices.set(index, state);
    }
    return state;
  }

  private event(candidates: JsonObject[]): JsonObject {
    return {
      candidates,
      modelVersion: this.facts.model,
      responseId: this.responseId ?? this.requestId,
    };
  }

  /** A fragment of a tool call: gathered on its call, which goes out when the choice finishes. */
  private toolCallDelta(state: ChoiceState, call: JsonObject): void {
    const fn = (call.function ?? {}) as JsonObject;
    const index = callIndex(state, call);
    let open = state.calls.get(index);
    if (!open) {
      open = { id: call.id, name: typeof fn.name === 'string' ? fn.name : '', args: '' };
      state.calls.set(index, open);
    }
    state.lastCall = index;
    const signature = thoughtSignatureOf(call);
    if (signature !== undefined) open.signature = signature;
    if (typeof fn.name === 'string' && fn.name !== '' && open.name === '') open.name = fn.name;
    if (typeof fn.arguments === 'string') open.args += fn.arguments;
  }

  /** The choice's calls, whole and in index order (the order their fragments came may differ). */
  private flushCalls(state: ChoiceState): JsonObject[] {
    if (state.calls.size === 0) return [];
    const calls = [...state.calls.entries()].sort(([a], [b]) => a - b);
    state.calls.clear();
    return calls.map(([, call]) => {
      const signature =
        call.signature ?? callReasoningSignature(state.thinking, state.reasoningText, this.facts);
      state.thinking = [];
      // The text a backend wants back goes to the first call alone, as signed blocks do.
      if (this.facts.reasoningTextBack === true) state.reasoningText = '';
      const args = callArgs(call.args, call.name, state.finishReason);
      return functionCallPart(call.id, call.name, args, signature);
    });
  }
}

/** Whether every call the choice holds has whole arguments (a JSON object, or none). */
function callsWhole(state: ChoiceState): boolean {
  for (const call of state.calls.values()) {
    try {
      toolArgs(call.args, call.name);
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * The index of the call a fragment belongs to. OpenAI always names it; for a backend that
 * leaves it out (and so cannot interleave), a fragment with no other call's id continues
 * the call that began last, and one with a new id begins the next.
 */
function callIndex(state: ChoiceState, call: JsonObject): number {
  if (typeof call.index === 'number') return call.index;
  const last = state.calls.get(state.lastCall);
  if (last && (call.id === undefined || call.id === last.id)) return state.lastCall;
  return state.lastCall + 1;
}

/**
 * The finishReason a candidate closes with. One whose choice the backend never finished
 * (its stream ended without a finish_reason for it) was cut, so it must not read as a
 * natural STOP: it says FINISH_REASON_UNSPECIFIED, a value of Gemini's enum that clients
 * parse and that claims no reason, rather than leaving finishReason out, which Gemini
 * documents as "not stopped yet" on a stream that is over. A refused one says SAFETY
 * either way: its refusal already told why it stopped, as the JSON answer's does.
 */
function closingFinishReason(state: ChoiceState): string {
  const { finishReason, refused, policyStop } = state;
  return !refused && (finishReason === null || finishReason === undefined)
    ? 'FINISH_REASON_UNSPECIFIED'
    : candidateFinishReason(finishReason, refused, policyStop);
}

/** The answer held for its wrapped schema, as its client's own JSON (none: no part). */
function heldAnswer(state: ChoiceState): JsonObject[] {
  if (state.heldJson === '') return [];
  const text = unwrappedAnswer(state.heldJson);
  state.heldJson = '';
  return text === '' ? [] : [{ text }];
}

/** A chunk's log probabilities as its event's logprobsResult, counted on the choice. */
function chunkLogprobs(state: ChoiceState, logprobs: unknown): JsonObject | undefined {
  const made = candidateLogprobs(logprobs);
  if (!made) return undefined;
  state.logprobSum += made.sum;
  state.logprobSteps += made.steps;
  return made.logprobsResult;
}

/** A candidate of an event: its index, and its parts when it has any. */
function candidate(index: number, parts: JsonObject[]): JsonObject {
  const made: JsonObject = { index };
  if (parts.length > 0) made.content = { role: 'model', parts };
  return made;
}

/**
 * A reasoning block as the backend signed it: streamed, its text came before as
 * reasoning fragments and its signature comes alone (Anthropic's signature_delta);
 * an entry without a signature repeats text already streamed and completes nothing.
 */
function thinkingBlock(state: ChoiceState, block: ThinkingBlock): void {
  if (block.type === 'thinking' && block.signature === '') return;
  if (block.type === 'thinking' && block.thinking === '') {
    state.thinking.push({ ...block, thinking: state.reasoningText });
  } else state.thinking.push(block);
  state.reasoningText = '';
}
