import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { requestedEncoding } from './embedding-input';
import { isJsonObject } from './json-shape';
import { base64Embedding } from './openai-output';

const isNumberList = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'number');

/**
 * An OpenAI-format embeddings answer in the encoding the client asked for. Some compatible
 * servers (Ollama, Infinity) ignore `encoding_format: base64` and answer float lists; the
 * openai SDKs ask for base64 by default and decode whatever comes as base64, so a list of
 * N floats reached them as N/4 garbage values. Such lists are encoded here as OpenAI
 * would have; base64 the backend sent (whatever its dtype) is passed on as it came.
 */
export function inAskedEncoding(answer: JsonObject, requestBody: JsonObject): JsonObject {
  if (requestedEncoding(requestBody) !== 'base64' || !Array.isArray(answer.data)) return answer;
  let encoded = false;
  const data = answer.data.map((item: unknown) => {
    if (!isJsonObject(item) || !isNumberList(item.embedding)) return item;
    encoded = true;
    return { ...item, embedding: base64Embedding(item.embedding) };
  });
  return encoded ? { ...answer, data } : answer;
}

/**
 * The 400 for an OpenAI-format embeddings answer whose float vectors are not of the size
 * the client asked (`dimensions`), else undefined. Some compatible servers (Ollama,
 * Infinity) ignore `dimensions` and answer the model's full size, which a client storing
 * vectors of the asked size would take as they came. Base64 vectors pass: their width
 * (float32, or a dtype the client asked for) is the client's to know.
 */
export function unaskedEmbeddingSize(
  answer: JsonObject,
  requestBody: JsonObject,
  backendName: string,
): DataPlaneError | undefined {
  const asked = requestBody.dimensions;
  if (typeof asked !== 'number' || !Array.isArray(answer.data)) return undefined;
  for (const item of answer.data) {
    if (!isJsonObject(item) || !isNumberList(item.embedding)) continue;
    const size = item.embedding.length;
    if (size === asked) continue;
    return new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      `backend ${backendName} answered vectors of ${size} dimensions, not the ${asked} asked ` +
        'for: it does not shorten them; ask for no size, or route to a model that takes one',
      { param: 'dimensions' },
    );
  }
  return undefined;
}
