import type { EventSourceMessage } from 'eventsource-parser';
import type { JsonObject, TokenUsage } from '@aigw/contracts/data-plane';
import { parseJsonObject } from '../core/json-shape';
import { ChunkFactory } from '../core/openai-output';
import type { StreamTranslation } from '../core/translated-stream';
import { reportedStreamError } from '../core/reported-error-status';
import { streamEventObject } from '../core/stream-event-json';
import { streamInterrupted } from '../core/upstream-http';
import {
  blockReason,
  candidateParts,
  candidatesByIndex,
  failedFinishReason,
  geminiFinishReason,
  policyStopExtras,
  geminiUsage,
  thoughtTokens,
  withReasoningTokens,
  type RejectAnswer,
} from './gemini-response';
import { toolAnswerExtras, toolUsePromptTokens, withToolAnswerExtras } from './gemini-tool-answers';
import { choiceLogprobs } from './gemini-logprobs';
import { StreamSearchQueries, withSearchQueries } from './gemini-grounding';

/**
 * The larger of each count: Gemini's stream usage is cumulative, so an event reporting
 * less than an earlier one (a partial usageMetadata) must not lower the bill.
 */
function mergeUsage(previous: TokenUsage | undefined, next: TokenUsage): TokenUsage {
  if (!previous) return next;
  const outputTokens = Math.max(previous.outputTokens, next.outputTokens);
  const imageOutputTokens = Math.max(previous.imageOutputTokens ?? 0, next.imageOutputTokens ?? 0);
  const audioInputTokens = Math.max(previous.audioInputTokens ?? 0, next.audioInputTokens ?? 0);
  return {
    inputTokens: Math.max(previous.inputTokens, next.inputTokens),
    outputTokens,
    cachedInputTokens: Math.max(previous.cachedInputTokens, next.cachedInputTokens),
    ...(audioInputTokens > 0 ? { audioInputTokens } : {}),
    ...(imageOutputTokens > 0 ? { imageOutputTokens } : {}),
    source: 'reported',
  };
}

/** Where one candidate's answer stands: opened, its tool calls so far, finished. */
interface CandidateState {
  started: boolean;
  toolCalls: number;
  finished: boolean;
}

/** The delta of a chunk ChunkFactory made (one choice). */
function deltaOf(chunk: JsonObject): JsonObject {
  return (chunk.choices as JsonObject[])[0].delta as JsonObject;
}

/** One chunk as the choice of `index` (ChunkFactory makes choice 0's). */
function asChoice(chunk: JsonObject, index: number): JsonObject {
  if (index !== 0) (chunk.choices as JsonObject[])[0].index = index;
  return chunk;
}

/**
 * streamGenerateContent (alt=sse) into OpenAI chunks. Each event is a partial
 * GenerateContentResponse; Gemini sends no end marker, so the answer is complete only
 * once every candidate asked for (candidateCount, OpenAI's `n`) carried a finishReason
 * (or the prompt was blocked). Several candidates come interleaved, each naming its
 * `index`: each is the choice of that index, opened by its own role chunk and closed by
 * its own finish. Function calls arrive whole, in one event, with their thoughtSignature
 * (on the call's first delta entry, as in a JSON answer); thought summaries are reasoning
 * fragments. After the finish only usage is still read.
 */
export class GeminiStreamTranslation implements StreamTranslation<EventSourceMessage> {
  finished = false;
  private readonly chunks: ChunkFactory;
  private readonly reject: RejectAnswer;
  private named = false;
  private readonly candidates: CandidateState[];
  private usage: TokenUsage | undefined;
  /** The most tool-use prompt tokens an event reported (cumulative, as the usage is). */
  private toolUseTokens = 0;
  /** The most thinking tokens an event reported (cumulative, as the usage is). */
  private reasoningTokens = 0;
  /** The Google Search queries the candidates ran, billed beside the tokens. */
  private readonly searchQueries = new StreamSearchQueries();

  constructor(
    private readonly backendName: string,
    model: string,
    /** The candidates asked for (candidateCount): the choices the stream must finish. */
    candidateCount = 1,
  ) {
    this.chunks = new ChunkFactory('chatcmpl-gemini', model);
    this.reject = (what) => streamInterrupted(backendName, `sent a stream event with ${what}`);
    // Each candidate asked for is awaited: Gemini refuses a candidateCount it cannot make,
    // so a backend that took the stream sends them all.
    this.candidates = Array.from({ length: candidateCount }, () => ({
      started: false,
      toolCalls: 0,
      finished: false,
    }));
  }

  translate(message: EventSourceMessage): readonly JsonObject[] {
    if (this.finished) {
      this.readLateUsage(message.data);
      return [];
    }
    const event = this.parse(message.data);
    this.readUsage(event);
    this.name(event);
    const out: JsonObject[] = [];
    const candidates = candidatesByIndex(
      event,
      this.candidates.length,
      this.reject,
      'in one event',
    );
    for (const { index, candidate } of candidates) out.push(...this.candidate(index, candidate));
    // A prompt blocked outright comes back with no candidate at all: every choice ends.
    if (candidates.length === 0 && blockReason(event) !== undefined) {
      this.candidates.forEach((state, index) => {
        if (state.finished) return;
        out.push(...this.opening(index));
        state.finished = true;
        out.push(asChoice(this.chunks.finish('content_filter'), index));
      });
    }
    this.finished = this.candidates.every((state) => state.finished);
    return out;
  }

  /** One candidate's part of an event, as chunks of its choice. */
  private candidate(index: number, candidate: JsonObject): JsonObject[] {
    const state = this.candidates[index];
    // A candidate already finished has nothing more to say: anything more is not relayed.
    if (state.finished) return [];
    const out = this.opening(index);
    const { text, reasoning, toolCalls, images, toolParts } = candidateParts(
      candidate,
      this.reject,
    );
    const chunks: JsonObject[] = [];
    // Thought summaries are reasoning, never content; Gemini writes them before the answer.
    if (reasoning !== '') chunks.push(this.chunks.reasoning(reasoning));
    // The built-in tools' parts and metadata ride on the event's text (see gemini-tool-answers).
    const extras = toolAnswerExtras(candidate, toolParts);
    if (text !== '' || extras) {
      const chunk = this.chunks.text(text);
      withToolAnswerExtras(deltaOf(chunk), extras);
      chunks.push(chunk);
    }
    // The log probabilities of the event's tokens ride on its text.
    const logprobs = choiceLogprobs(candidate);
    if (logprobs) {
      if (chunks.length === 0) chunks.push(this.chunks.text(''));
      (chunks.at(-1)?.choices as JsonObject[])[0].logprobs = logprobs;
    }
    // Relayed as they come, each no larger than the (bounded) event that carried it.
    if (images.length > 0) chunks.push(this.chunks.images(images));
    for (const call of toolCalls) {
      const at = state.toolCalls++;
      chunks.push(this.chunks.toolCallStart(at, call.id, call.name, call.thoughtSignature));
      chunks.push(this.chunks.toolCallArguments(at, call.argumentsJson));
    }
    if (candidate.finishReason) {
      // Earlier events went out as they came; this one ends the stream in an error.
      const failed = failedFinishReason(candidate.finishReason);
      if (failed) {
        throw streamInterrupted(this.backendName, `finished a candidate with ${failed}`);
      }
      state.finished = true;
      const finish = this.chunks.finish(
        geminiFinishReason(candidate.finishReason, state.toolCalls > 0),
      );
      // The Gemini edge reports them apart from the prompt's tokens, as Gemini does.
      if (this.toolUseTokens > 0) {
        withToolAnswerExtras(deltaOf(finish), {
          google: { tool_use_prompt_token_count: this.toolUseTokens },
        });
      }
      withToolAnswerExtras(deltaOf(finish), policyStopExtras(candidate.finishReason));
      chunks.push(finish);
    }
    for (const chunk of chunks) out.push(asChoice(chunk, index));
    return out;
  }

  reportedUsage(): TokenUsage | undefined {
    return this.usage && withSearchQueries(this.usage, this.searchQueries.total());
  }

  usageChunk(usage: TokenUsage): JsonObject {
    const chunk = this.chunks.usage(usage);
    // Part of the output: never more than the usage this chunk reports.
    const reasoning = Math.min(this.reasoningTokens, usage.outputTokens);
    return { ...chunk, usage: withReasoningTokens(chunk.usage as JsonObject, reasoning) };
  }

  private readUsage(event: JsonObject): void {
    this.searchQueries.read(event);
    const usage = geminiUsage(event.usageMetadata);
    if (usage) {
      this.usage = mergeUsage(this.usage, usage);
      this.reasoningTokens = Math.max(
        this.reasoningTokens,
        thoughtTokens(event.usageMetadata, usage.outputTokens),
      );
    }
    this.toolUseTokens = Math.max(this.toolUseTokens, toolUsePromptTokens(event.usageMetadata));
  }

  /**
   * An event after the finish can no longer change the answer the client has whole, so
   * junk or an error there does not fail it; only usage is still taken from it.
   */
  private readLateUsage(data: string): void {
    const event = parseJsonObject(data);
    if (event) this.readUsage(event);
  }

  /** One event's data as an object; anything else (or an error object) ends the stream. */
  private parse(data: string): JsonObject {
    const event = streamEventObject(this.backendName, data);
    if (!event.error) return event;
    // Google's `code` is the HTTP status it gives the error (429 RESOURCE_EXHAUSTED).
    const started = this.candidates.some((state) => state.started);
    throw reportedStreamError(this.backendName, event.error, started);
  }

  /** The stream's id and model, from the first event that names them. */
  private name(event: JsonObject): void {
    if (this.named) return;
    this.named = true;
    if (typeof event.responseId === 'string') this.chunks.id = event.responseId;
    if (typeof event.modelVersion === 'string') this.chunks.model = event.modelVersion;
  }

  /** A choice's role chunk, before its first content. */
  private opening(index: number): JsonObject[] {
    const state = this.candidates[index];
    if (state.started) return [];
    state.started = true;
    return [asChoice(this.chunks.role(), index)];
  }
}
