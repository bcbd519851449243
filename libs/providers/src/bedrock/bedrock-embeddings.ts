import type { IncomingHttpHeaders } from 'node:http';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { estimatedEmbeddingUsage, type EmbeddingAsk } from '../core/embedding-input';
import { boundedEmbeddingInputs, type EmbeddingPart } from '../core/embedding-parts';
import { embeddingVectors } from '../core/embedding-vectors';
import { isJsonObject } from '../core/json-shape';
import { tokenCount } from '../core/usage';
import { baseModelId } from './bedrock-model-id';

/** Cohere Embed on Bedrock takes at most 96 texts per InvokeModel call. */
export const COHERE_TEXTS_PER_CALL = 96;

/** One InvokeModel call of an embeddings request: its body, and the inputs it embeds. */
export interface EmbeddingInvocation {
  readonly body: JsonObject;
  readonly texts: readonly string[];
}

/** How one family of Bedrock embedding models is called and read. */
export interface BedrockEmbeddingModel {
  /** The calls that embed the request's inputs, in input order; a bad `dimensions` is a 400. */
  invocations(ask: EmbeddingAsk, clientBody: JsonObject): EmbeddingInvocation[];
  /** The vectors of one call's answer, unchecked; undefined where it holds none. */
  vectorsOf(answer: JsonObject): unknown;
  /** The input tokens one call's answer body reports, if any. */
  bodyTokensOf(answer: JsonObject): number | undefined;
}

/** The embedding model family of a Bedrock model id; undefined for a model that does not embed. */
export function bedrockEmbeddingModel(modelId: string): BedrockEmbeddingModel | undefined {
  const id = baseModelId(modelId);
  if (id.startsWith('amazon.titan-embed-text-v2')) return TITAN_V2;
  if (id.startsWith('amazon.titan-embed-')) return TITAN_V1;
  if (/^cohere\.embed-(?:.*-)?v3/.test(id)) return COHERE_V3;
  if (id.startsWith('cohere.embed-')) return COHERE_V4;
  return undefined;
}

/** The 400 for an embeddings request routed to a Bedrock model that does not embed. */
export function notAnEmbeddingModel(modelId: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `the bedrock backend's model "${modelId.slice(0, 200)}" makes no embeddings (Amazon Titan ` +
      'Text Embeddings and Cohere Embed do); route this model to a backend that does',
    { param: 'model' },
  );
}

/** The asked `dimensions` if `model` takes that size, else the 400 naming the field. */
function checkedDimensions(
  dimensions: number | undefined,
  model: string,
  sizes: readonly number[],
): number | undefined {
  if (dimensions === undefined || sizes.includes(dimensions)) return dimensions;
  const taken =
    sizes.length === 0
      ? 'no dimensions; leave dimensions out'
      : `dimensions ${sizes.slice(0, -1).join(', ')} or ${sizes.at(-1)}, not ${dimensions}`;
  throw new DataPlaneError(DataPlaneErrorCode.InvalidRequest, `${model} takes ${taken}`, {
    param: 'dimensions',
  });
}

/**
 * Amazon Titan Text Embeddings: one `inputText` per call, the vector in `embedding` (V2
 * also repeats it in `embeddingsByType.float`) and the count in `inputTextTokenCount`.
 * V2's `normalize` is left at its default, true, as OpenAI's vectors are normalized.
 */
function titan(name: string, sizes: readonly number[]): BedrockEmbeddingModel {
  return {
    invocations(ask) {
      const dimensions = checkedDimensions(ask.dimensions, name, sizes);
      const size = dimensions === undefined ? {} : { dimensions };
      return boundedEmbeddingInputs(ask.inputs).map((text) => ({
        body: { inputText: text, ...size },
        texts: [text],
      }));
    },
    vectorsOf(answer) {
      const byType = isJsonObject(answer.embeddingsByType) ? answer.embeddingsByType : {};
      const vector = answer.embedding ?? byType.float;
      return vector === undefined ? undefined : [vector];
    },
    bodyTokensOf: (answer) => tokenCount(answer.inputTextTokenCount),
  };
}

const TITAN_V2 = titan('Titan Text Embeddings V2', [256, 512, 1024]);
const TITAN_V1 = titan('this Titan embeddings model', []);

/**
 * Cohere Embed: up to 96 `texts` per call, documents unless the client names its own
 * `input_type` (a Cohere extension of the OpenAI body). Floats are asked for by name,
 * which both versions answer as `embeddings.float`; a bare list (no `embedding_types`)
 * is read too. `truncate` is left at NONE, so an over-long text is refused, as on OpenAI.
 */
function cohere(name: string, sizes: readonly number[]): BedrockEmbeddingModel {
  return {
    invocations(ask, clientBody) {
      const dimensions = checkedDimensions(ask.dimensions, name, sizes);
      const inputType =
        typeof clientBody.input_type === 'string' ? clientBody.input_type : 'search_document';
      const inputs = boundedEmbeddingInputs(ask.inputs);
      const invocations: EmbeddingInvocation[] = [];
      for (let start = 0; start < inputs.length; start += COHERE_TEXTS_PER_CALL) {
        const texts = inputs.slice(start, start + COHERE_TEXTS_PER_CALL);
        invocations.push({
          body: {
            texts,
            input_type: inputType,
            embedding_types: ['float'],
            ...(dimensions === undefined ? {} : { output_dimension: dimensions }),
          },
          texts,
        });
      }
      return invocations;
    },
    vectorsOf(answer) {
      const embeddings = answer.embeddings;
      return isJsonObject(embeddings) ? embeddings.float : embeddings;
    },
    bodyTokensOf(answer) {
      const meta = isJsonObject(answer.meta) ? answer.meta : {};
      const billed = isJsonObject(meta.billed_units) ? meta.billed_units : {};
      return tokenCount(billed.input_tokens);
    },
  };
}

const COHERE_V3 = cohere('Cohere Embed v3', []);
const COHERE_V4 = cohere('Cohere Embed v4', [256, 512, 1024, 1536]);

/** The count InvokeModel reports for every model in `X-Amzn-Bedrock-Input-Token-Count`. */
function headerTokens(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['x-amzn-bedrock-input-token-count'];
  const text = Array.isArray(value) ? value[0] : value;
  return text !== undefined && /^\d+$/.test(text.trim()) ? tokenCount(Number(text)) : undefined;
}

/**
 * One call's answer read: its vectors (one per text it embedded, of the asked size) and
 * its input tokens, from Bedrock's header first, else the body, else our estimate.
 * Undefined for an answer that holds no such vectors.
 */
export function readEmbeddingPart(
  model: BedrockEmbeddingModel,
  invocation: EmbeddingInvocation,
  answer: { body: JsonObject; headers: IncomingHttpHeaders },
  dimensions: number | undefined,
): EmbeddingPart | undefined {
  const vectors = embeddingVectors(
    model.vectorsOf(answer.body),
    invocation.texts.length,
    dimensions,
  );
  if (!vectors) return undefined;
  const reported = headerTokens(answer.headers) ?? model.bodyTokensOf(answer.body);
  const usage: TokenUsage =
    reported === undefined
      ? estimatedEmbeddingUsage(invocation.texts)
      : { inputTokens: reported, outputTokens: 0, cachedInputTokens: 0, source: 'reported' };
  return { vectors, usage };
}
