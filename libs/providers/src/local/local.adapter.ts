import { randomUUID } from 'node:crypto';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  MEDIA_OPERATIONS,
  SCORING_OPERATIONS,
  promptCount,
  estimateTokens,
  promptText,
  type GatewayAnswer,
  type JsonObject,
  type ServedBy,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import type { ProviderCall } from '@aigw/contracts/data-plane';
// Types only (erased at build): the local model's answers are checked against OpenAI's shapes.
import type {
  ChatCompletionChunk,
  ChatCompletionResponse,
  CompletionResponse,
  OpenAiUsage,
} from '@aigw/contracts';
import { requestedDimensions, requestedEncoding } from '../core/embedding-input';
import { boundedEmbeddingInputs } from '../core/embedding-parts';
import { servedByOf } from '../core/openai-wire';
import { unsupportedOperation } from '../core/chat-request';
import { embeddingList } from '../core/openai-output';
import type { ProviderAdapter } from '../core/provider-adapter';

import { localEmbedding, localReply } from './local-model';

const DEFAULT_EMBEDDING_DIMENSIONS = 256;
/** The largest vector OpenAI makes (text-embedding-3-large): a size past it is a 400. */
const MAX_EMBEDDING_DIMENSIONS = 3072;

/** The inputs to embed, each a text or token ids: at most OpenAI's 2048 (else a 400). */
function localInputs(input: unknown): readonly unknown[] {
  if (!Array.isArray(input) || input.every((item) => typeof item === 'number')) return [input];
  return boundedEmbeddingInputs(input);
}

/**
 * The size of the local model's vectors: the client's `dimensions` (a 400 when it is not a
 * positive whole number, or past MAX_EMBEDDING_DIMENSIONS), else the default. Unbounded,
 * one request's size was the gateway's to build, hash by hash, on its event loop.
 */
function localDimensions(body: JsonObject): number {
  const dimensions = requestedDimensions(body) ?? DEFAULT_EMBEDDING_DIMENSIONS;
  if (dimensions <= MAX_EMBEDDING_DIMENSIONS) return dimensions;
  throw new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `dimensions must be at most ${MAX_EMBEDDING_DIMENSIONS} for the local model, not ${dimensions}`,
    { param: 'dimensions' },
  );
}

/** The built-in `local` provider: answers in-process, in OpenAI format. */
export class LocalAdapter implements ProviderAdapter {
  readonly name = 'local';

  canHandle(provider: string): boolean {
    return provider === 'local';
  }

  async invoke(call: ProviderCall): Promise<GatewayAnswer> {
    const { request, target } = call;
    if (MEDIA_OPERATIONS.has(request.operation) || SCORING_OPERATIONS.has(request.operation)) {
      throw unsupportedOperation('local', request.operation);
    }
    const servedBy: ServedBy = servedByOf(target);
    const created = Math.floor(Date.now() / 1000);
    const inputTokens = estimateTokens(promptText(request.body));

    if (request.operation === 'embeddings') {
      const inputs = localInputs(request.body.input);
      const dimensions = localDimensions(request.body);
      const usage = tokens(inputTokens, 0);
      return {
        kind: 'json',
        status: 200,
        servedBy,
        usage,
        body: embeddingList(
          target.model,
          inputs.map((input) => localEmbedding(JSON.stringify(input), dimensions)),
          usage,
          requestedEncoding(request.body),
        ),
      };
    }

    const text = localReply(request.body);
    // `n` choices, as OpenAI answers them: the same reply under each index, each one billed.
    const indexes = Array.from(
      { length: choiceCount(request.operation, request.body) },
      (_, index) => index,
    );
    const usage = tokens(inputTokens, estimateTokens(text) * indexes.length);
    const id = `${request.operation === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`;
    if (!request.stream) {
      const body =
        request.operation === 'chat'
          ? ({
              id,
              object: 'chat.completion',
              created,
              model: target.model,
              choices: indexes.map((index) => ({
                index,
                message: { role: 'assistant', content: text },
                finish_reason: 'stop',
                logprobs: null,
              })),
              usage: openAiUsageBody(usage),
            } satisfies ChatCompletionResponse)
          : ({
              id,
              object: 'text_completion',
              created,
              model: target.model,
              choices: indexes.map((index) => ({
                index,
                text,
                finish_reason: 'stop',
                logprobs: null,
              })),
              usage: openAiUsageBody(usage),
            } satisfies CompletionResponse);
      return { kind: 'json', status: 200, servedBy, usage, body };
    }
    return {
      kind: 'stream',
      status: 200,
      servedBy,
      usage: Promise.resolve(usage),
      events: (request.operation === 'chat' ? streamChatWords : streamCompletionWords)(
        { id, created, model: target.model, indexes },
        text,
        usage,
        request.clientWantsStreamUsage,
      ),
    };
  }
}

/**
 * How many choices the answer holds: `n` (validated at the edge, 1 when absent), for each
 * prompt of a legacy completion's list, as OpenAI answers them (the budget hold counts
 * them so too).
 */
function choiceCount(operation: string, body: JsonObject): number {
  const n = body.n;
  const perPrompt = typeof n === 'number' && Number.isInteger(n) && n > 1 ? n : 1;
  return operation === 'completions' ? perPrompt * promptCount(body.prompt) : perPrompt;
}

/** What every chunk of one streamed answer shares, and the choices it streams. */
interface StreamShape {
  readonly id: string;
  readonly created: number;
  readonly model: string;
  readonly indexes: readonly number[];
}

function tokens(inputTokens: number, outputTokens: number): TokenUsage {
  return { inputTokens, outputTokens, cachedInputTokens: 0, source: 'estimated' };
}

function openAiUsageBody(usage: TokenUsage): OpenAiUsage {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

/** A word at a time, trailing space kept, so the pieces join back to the text. */
function words(text: string): string[] {
  return text.split(/(?<= )/);
}

/** Each choice in turn, a word at a time: chunks carry their choice's index, as OpenAI's do. */
async function* streamChatWords(
  { id, created, model, indexes }: StreamShape,
  text: string,
  usage: TokenUsage,
  withUsage: boolean,
): AsyncGenerator<JsonObject> {
  const base = { id, object: 'chat.completion.chunk', created, model } as const;
  for (const index of indexes) {
    yield {
      ...base,
      choices: [{ index, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    } satisfies ChatCompletionChunk;
    for (const word of words(text)) {
      yield {
        ...base,
        choices: [{ index, delta: { content: word }, finish_reason: null }],
      } satisfies ChatCompletionChunk;
    }
    yield {
      ...base,
      choices: [{ index, delta: {}, finish_reason: 'stop' }],
    } satisfies ChatCompletionChunk;
  }
  if (withUsage) {
    yield { ...base, choices: [], usage: openAiUsageBody(usage) } satisfies ChatCompletionChunk;
  }
}

/** `/v1/completions` streams text_completion chunks with `text`, not chat deltas. */
async function* streamCompletionWords(
  { id, created, model, indexes }: StreamShape,
  text: string,
  usage: TokenUsage,
  withUsage: boolean,
): AsyncGenerator<JsonObject> {
  const base = { id, object: 'text_completion', created, model } as const;
  for (const index of indexes) {
    for (const word of words(text)) {
      yield {
        ...base,
        choices: [{ index, text: word, finish_reason: null, logprobs: null }],
      } satisfies CompletionResponse;
    }
    yield {
      ...base,
      choices: [{ index, text: '', finish_reason: 'stop', logprobs: null }],
    } satisfies CompletionResponse;
  }
  if (withUsage) {
    yield { ...base, choices: [], usage: openAiUsageBody(usage) } satisfies CompletionResponse;
  }
}
