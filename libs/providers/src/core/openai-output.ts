import type { JsonObject, ThinkingBlock, TokenUsage } from '@aigw/contracts/data-plane';
import type { EmbeddingEncoding } from './embedding-input';
import { sumTokens } from './usage';

// Builders for the OpenAI answer shapes that translating adapters emit.

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface OpenAiToolCall {
  readonly id: string;
  readonly name: string;
  readonly argumentsJson: string;
  /** Gemini's signature for the call, which the client must send back with it. */
  readonly thoughtSignature?: string;
}

/**
 * Where a tool call carries Gemini's signature, as Google's own OpenAI-compatible
 * endpoint puts it: `extra_content.google.thought_signature` on the call. A client that
 * appends the assistant message it got to its history sends it back unchanged.
 */
function signatureFields(thoughtSignature: string | undefined): JsonObject {
  return thoughtSignature === undefined
    ? {}
    : { extra_content: { google: { thought_signature: thoughtSignature } } };
}

/** OpenAI's `usage` object; `prompt_tokens` includes cached tokens, as OpenAI reports it. */
export function openAiUsageBody(usage: TokenUsage): JsonObject {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: sumTokens(usage.inputTokens, usage.outputTokens),
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens },
  };
}

/**
 * A vector as OpenAI sends it for `encoding_format: base64`: little-endian float32s, in
 * base64. The openai SDKs ask for this by default and decode it themselves.
 */
export function base64Embedding(vector: readonly number[]): string {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  vector.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString('base64');
}

/** A vector in the encoding the client asked for. */
function encodedAs(encoding: EmbeddingEncoding, vector: readonly number[]): number[] | string {
  return encoding === 'base64' ? base64Embedding(vector) : (vector as number[]);
}

/** OpenAI's embeddings list, one vector per input in order; embeddings use prompt tokens only. */
export function embeddingList(
  model: string,
  vectors: readonly number[][],
  usage: TokenUsage,
  encoding: EmbeddingEncoding = 'float',
): JsonObject {
  return {
    object: 'list',
    model,
    data: vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: encodedAs(encoding, vector),
    })),
    usage: { prompt_tokens: usage.inputTokens, total_tokens: usage.inputTokens },
  };
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * An answer's reasoning in the canonical format (`@aigw/contracts` reasoning.ts): its
 * text, and the blocks to send back where the provider signs or redacts them.
 */
export interface AnswerReasoning {
  readonly text: string;
  readonly blocks: readonly ThinkingBlock[];
}

/** `reasoning_content` and `thinking_blocks` for a message, where there are any. */
function reasoningFields(reasoning: AnswerReasoning | undefined): JsonObject {
  if (!reasoning) return {};
  const fields: JsonObject = {};
  if (reasoning.text !== '') fields.reasoning_content = reasoning.text;
  if (reasoning.blocks.length > 0) fields.thinking_blocks = reasoning.blocks.map((b) => ({ ...b }));
  return fields;
}

/**
 * Images a model generated (data URLs), as OpenRouter relays them for image-output
 * models: `images: [{type: 'image_url', image_url: {url}}]` on the message or delta.
 */
function imageList(dataUrls: readonly string[]): JsonObject[] {
  return dataUrls.map((url) => ({ type: 'image_url', image_url: { url } }));
}

/** A complete `chat.completion` with one choice. */
export function chatCompletion(answer: {
  id: string;
  model: string;
  text: string;
  toolCalls: readonly OpenAiToolCall[];
  finishReason: FinishReason;
  usage: TokenUsage;
  reasoning?: AnswerReasoning;
  images?: readonly string[];
  /** The stop sequence the answer ended at, when the backend names it. */
  stoppedAt?: string;
}): JsonObject {
  const message: JsonObject = {
    role: 'assistant',
    content: answer.text === '' && answer.toolCalls.length > 0 ? null : answer.text,
    ...reasoningFields(answer.reasoning),
  };
  if (answer.images && answer.images.length > 0) message.images = imageList(answer.images);
  if (answer.toolCalls.length > 0) {
    message.tool_calls = answer.toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.argumentsJson },
      ...signatureFields(call.thoughtSignature),
    }));
  }
  return {
    id: answer.id,
    object: 'chat.completion',
    created: nowSeconds(),
    model: answer.model,
    choices: [
      {
        index: 0,
        message,
        logprobs: null,
        finish_reason: answer.finishReason,
        ...stopReasonField(answer.stoppedAt),
      },
    ],
    usage: openAiUsageBody(answer.usage),
  };
}

/**
 * The stop sequence an answer ended at, as vLLM names it on the choice (`stop_reason`):
 * OpenAI's `finish_reason: "stop"` cannot tell it from a natural end, and the Messages
 * edge answers it as `stop_sequence`. Beside "length" it may instead say
 * `model_context_window_exceeded` (Anthropic's), which the Messages edge answers as itself.
 */
function stopReasonField(stoppedAt: string | undefined): JsonObject {
  return stoppedAt === undefined ? {} : { stop_reason: stoppedAt };
}

/** Makes the `chat.completion.chunk` objects of one stream (same id, model and time). */
export class ChunkFactory {
  private readonly created = nowSeconds();
  /** The tier the backend served at, once it said: on every chunk after, as OpenAI's are. */
  serviceTier: string | undefined;

  constructor(
    public id: string,
    public model: string,
  ) {}

  private base(): JsonObject {
    const base: JsonObject = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
    };
    if (this.serviceTier !== undefined) base.service_tier = this.serviceTier;
    return base;
  }

  /** The opening chunk that names the assistant role. */
  role(): JsonObject {
    return this.delta({ role: 'assistant', content: '' });
  }

  text(content: string): JsonObject {
    return this.delta({ content });
  }

  /** Images the model generated, as data URLs. */
  images(dataUrls: readonly string[]): JsonObject {
    return this.delta({ images: imageList(dataUrls) });
  }

  /** A fragment of the model's reasoning text. */
  reasoning(fragment: string): JsonObject {
    return this.delta({ reasoning_content: fragment });
  }

  /**
   * A reasoning block to send back, once it is whole: a thinking block's signature (its
   * text came before as `reasoning` fragments, so `thinking` is empty here) or a
   * redacted block.
   */
  thinkingBlock(block: ThinkingBlock): JsonObject {
    return this.delta({ thinking_blocks: [{ ...block }] });
  }

  /**
   * The first chunk of a tool call: its id and name, with empty arguments, and Gemini's
   * signature for it where there is one.
   */
  toolCallStart(index: number, id: string, name: string, thoughtSignature?: string): JsonObject {
    return this.delta({
      tool_calls: [
        {
          index,
          id,
          type: 'function',
          function: { name, arguments: '' },
          ...signatureFields(thoughtSignature),
        },
      ],
    });
  }

  toolCallArguments(index: number, fragment: string): JsonObject {
    return this.delta({ tool_calls: [{ index, function: { arguments: fragment } }] });
  }

  /** The closing chunk; `stoppedAt` is the stop sequence it ended at, if named. */
  finish(reason: FinishReason, stoppedAt?: string): JsonObject {
    const chunk = this.delta({}, reason);
    Object.assign((chunk.choices as JsonObject[])[0], stopReasonField(stoppedAt));
    return chunk;
  }

  /** The usage-only chunk of `stream_options.include_usage`. */
  usage(usage: TokenUsage): JsonObject {
    return { ...this.base(), choices: [], usage: openAiUsageBody(usage) };
  }

  delta(delta: JsonObject, finishReason: FinishReason | null = null): JsonObject {
    return {
      ...this.base(),
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
  }
}
