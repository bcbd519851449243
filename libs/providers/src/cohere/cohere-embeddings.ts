import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { estimatedEmbeddingUsage, type EmbeddingAsk } from '../core/embedding-input';
import {
  embeddingBatches,
  type EmbeddingBatch,
  type EmbeddingCall,
  type EmbeddingPart,
} from '../core/embedding-parts';
import { embeddingVectors } from '../core/embedding-vectors';
import { isJsonObject } from '../core/json-shape';
import { cohereUsage } from './cohere-response';

/** /v2/embed refuses more than 96 texts in one call (400). */
const COHERE_EMBEDDINGS_PER_CALL = 96;

/**
 * Cohere's Embed v3 and older models (embed-english-v3.0, embed-multilingual-light-v3.0,
 * embed-english-v2.0...), which take no `output_dimension`: Cohere's reference has it "only
 * available for embed-v4 and newer models". Any other model's `dimensions` is sent, for
 * Cohere to check the size (embed-v4 takes 256, 512, 1024 or 1536; it refuses others, 400).
 */
const WITHOUT_OUTPUT_DIMENSION = /^embed-(?:.*-)?v[123](?:[.-]|$)/;

/** The client's `dimensions` for the model, or, before any call, the 400 naming the field. */
function outputDimension(model: string, dimensions: number | undefined): number | undefined {
  if (dimensions === undefined || !WITHOUT_OUTPUT_DIMENSION.test(model)) return dimensions;
  throw new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    'Cohere Embed v3 and older models take no dimensions (embed-v4 does); leave dimensions out',
    { param: 'dimensions' },
  );
}

/**
 * The v2 /embed bodies, at most COHERE_EMBEDDINGS_PER_CALL texts each. Cohere's v3+
 * embedding models require `input_type`: a client may pass it through (a Cohere extension
 * of the OpenAI body), else texts are documents. OpenAI's `dimensions` is Cohere's
 * `output_dimension`, except on v3 and older models (outputDimension). Cohere is asked
 * for floats whatever `encoding_format` says: every Embed model serves them, while its
 * `base64` type (v3 and later) documents no byte layout; a client asking for base64 gets
 * the floats as OpenAI lays them out (embeddingList: little-endian float32).
 */
export function toCohereEmbedCalls(
  model: string,
  ask: EmbeddingAsk,
  body: JsonObject,
): EmbeddingCall[] {
  const inputType = typeof body.input_type === 'string' ? body.input_type : 'search_document';
  const dimensions = outputDimension(model, ask.dimensions);
  const size = dimensions === undefined ? {} : { output_dimension: dimensions };
  return embeddingBatches(ask, COHERE_EMBEDDINGS_PER_CALL).map((batch) => ({
    batch,
    body: {
      model,
      texts: batch.texts,
      input_type: inputType,
      embedding_types: ['float'],
      ...size,
    },
  }));
}

/**
 * One /embed answer read: one float vector per text of its batch, all of one size, and
 * what /embed billed (else, no usable `meta`, our tokenizer's estimate); undefined for
 * anything else. The floats are `embeddings.float` (embeddings_by_type, what embedding_types
 * asks for), or `embeddings` itself, the bare list of Cohere's other documented answer
 * (embeddings_floats), as the Bedrock adapter reads Cohere Embed too.
 */
export function readCohereEmbedPart(
  response: JsonObject,
  batch: EmbeddingBatch,
  dimensions: number | undefined,
): EmbeddingPart | undefined {
  const embeddings = response.embeddings;
  const floats = isJsonObject(embeddings) ? embeddings.float : embeddings;
  const vectors = embeddingVectors(floats, batch.texts.length, dimensions);
  if (!vectors) return undefined;
  return { vectors, usage: cohereUsage(response.meta) ?? estimatedEmbeddingUsage(batch.texts) };
}
