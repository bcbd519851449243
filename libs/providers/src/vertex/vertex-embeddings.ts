import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { estimatedEmbeddingUsage, type EmbeddingAsk } from '../core/embedding-input';
import { boundedEmbeddingInputs, type EmbeddingPart } from '../core/embedding-parts';
import { embeddingVectors, unitVectors } from '../core/embedding-vectors';
import { isJsonObject } from '../core/json-shape';
import { embeddingExtras, valueAt } from '../core/provider-extras';
import { countTokens } from '../core/tokenizer';
import { sumTokens, tokenCount } from '../core/usage';

/** Vertex's text embedding models take at most 250 instances per :predict call... */
export const INSTANCES_PER_PREDICT = 250;

/** ...and at most 20,000 input tokens in all (a 400 past it); counted with our estimate. */
export const TOKENS_PER_PREDICT = 20_000;

/** One :predict call of an embeddings request: its body, and the inputs it embeds. */
export interface VertexPredictCall {
  readonly body: JsonObject;
  readonly texts: readonly string[];
}

/** The 400 for an embeddings request routed to a Claude model on Vertex, which does not embed. */
export function notAnEmbeddingModel(modelId: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `the vertex backend's model "${modelId.slice(0, 200)}" makes no embeddings (Google's ` +
      'text-embedding and gemini-embedding models do); route this model to a backend that does',
    { param: 'model' },
  );
}

/** Gemini embedding models take one instance per :predict call; the text-embedding ones a list. */
export function embedsOneAtATime(modelId: string): boolean {
  return /^gemini-embedding/i.test(modelId);
}

/**
 * The request's inputs in :predict calls, in input order: one per call for Gemini
 * embedding models, else up to INSTANCES_PER_PREDICT and TOKENS_PER_PREDICT per call (an
 * input alone past the token cap goes in a call of its own, for Vertex to judge).
 * `task_type` and `title`, Vertex's own instance fields, pass through when the client
 * names them, beside `input` or (a Gemini client's taskType and titles, one per input)
 * in `provider_extras`. autoTruncate is off, so an over-long text is refused, as on OpenAI.
 */
export function vertexPredictCalls(
  modelId: string,
  ask: EmbeddingAsk,
  clientBody: JsonObject,
): VertexPredictCall[] {
  const inputs = boundedEmbeddingInputs(ask.inputs);
  const { dimensions } = ask;
  const extras = embeddingExtras(clientBody, inputs.length);
  const sharedTask = typeof clientBody.task_type === 'string' ? clientBody.task_type : undefined;
  const sharedTitle = typeof clientBody.title === 'string' ? clientBody.title : undefined;
  const instance = (index: number): JsonObject => {
    const taskType = valueAt(extras.taskType, index) ?? sharedTask;
    const title = valueAt(extras.title, index) ?? sharedTitle;
    return {
      content: inputs[index],
      ...(taskType === undefined ? {} : { task_type: taskType }),
      ...(title === undefined ? {} : { title }),
    };
  };
  const parameters: JsonObject = {
    autoTruncate: false,
    ...(dimensions === undefined ? {} : { outputDimensionality: dimensions }),
  };
  const call = (indices: number[]): VertexPredictCall => ({
    body: { instances: indices.map(instance), parameters },
    texts: indices.map((index) => inputs[index]),
  });
  if (embedsOneAtATime(modelId)) return inputs.map((_, index) => call([index]));
  const calls: VertexPredictCall[] = [];
  let batch: number[] = [];
  let tokens = 0;
  inputs.forEach((text, index) => {
    const count = countTokens(text);
    const full = batch.length === INSTANCES_PER_PREDICT || tokens + count > TOKENS_PER_PREDICT;
    if (batch.length > 0 && full) {
      calls.push(call(batch));
      batch = [];
      tokens = 0;
    }
    batch.push(index);
    tokens += count;
  });
  if (batch.length > 0) calls.push(call(batch));
  return calls;
}

/**
 * One :predict answer read: `predictions[].embeddings.values`, one per text of the call,
 * and the sum of their `statistics.token_count` (our estimate where a count is missing,
 * and the usage then marked estimated). The vectors are scaled to unit length when a size was
 * asked (unitVectors). Undefined for an answer without those vectors.
 */
export function readPredictAnswer(
  call: VertexPredictCall,
  answer: JsonObject,
  dimensions: number | undefined,
): EmbeddingPart | undefined {
  const predictions = Array.isArray(answer.predictions) ? answer.predictions : undefined;
  const embeddings = predictions?.map((prediction) =>
    isJsonObject(prediction) && isJsonObject(prediction.embeddings)
      ? prediction.embeddings
      : undefined,
  );
  const vectors = embeddingVectors(
    embeddings?.map((embedding) => embedding?.values),
    call.texts.length,
    dimensions,
  );
  if (!vectors || !embeddings) return undefined;
  const counts = embeddings.map((embedding) => {
    const statistics = embedding && isJsonObject(embedding.statistics) ? embedding.statistics : {};
    return tokenCount(statistics.token_count);
  });
  const reported = counts.every((count) => count !== undefined);
  const inputTokens = counts.reduce<number>(
    (sum, count, index) =>
      sumTokens(sum, count ?? estimatedEmbeddingUsage([call.texts[index]]).inputTokens),
    0,
  );
  const characters = billableCharacters(answer);
  return {
    vectors: dimensions === undefined ? vectors : unitVectors(vectors),
    usage: {
      inputTokens,
      outputTokens: 0,
      cachedInputTokens: 0,
      ...(characters === undefined ? {} : { characters }),
      source: reported ? 'reported' : 'estimated',
    },
  };
}

/**
 * The characters Vertex bills the call for (`metadata.billableCharacterCount`): Google
 * prices its text-embedding models by the character, not the token.
 */
function billableCharacters(answer: JsonObject): number | undefined {
  const metadata = isJsonObject(answer.metadata) ? answer.metadata : undefined;
  return tokenCount(metadata?.billableCharacterCount);
}
