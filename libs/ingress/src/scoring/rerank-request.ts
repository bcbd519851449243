import {
  DataPlaneError,
  DataPlaneErrorCode,
  rerankDocumentTexts,
  type JsonObject,
} from '@aigw/contracts/data-plane';

/** The most documents one rerank may carry (Cohere's limit). */
export const MAX_RERANK_DOCUMENTS = 10_000;

function invalid(message: string, param: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

/**
 * Checks a rerank body (Cohere's v2 shape, as LiteLLM and vLLM take it) before it is
 * routed: a non-empty `query`, 1 to 10,000 `documents` as strings or `{text}` objects,
 * and when sent, `top_n` and `max_tokens_per_doc` whole numbers of at least 1,
 * `return_documents` a boolean, `rank_fields` a list of strings. Answers come whole:
 * `stream` is a 400. Other fields pass through.
 */
export function checkedRerankBody(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body; // the builder says so
  const json = body as JsonObject;
  if (typeof json.query !== 'string' || json.query.length === 0) {
    throw invalid("'query' must be a non-empty string", 'query');
  }
  const texts = rerankDocumentTexts(json.documents);
  if (!texts || texts.length === 0 || texts.length > MAX_RERANK_DOCUMENTS) {
    throw invalid(
      `'documents' must be a list of 1 to ${MAX_RERANK_DOCUMENTS} strings or {text} objects`,
      'documents',
    );
  }
  for (const field of ['top_n', 'max_tokens_per_doc']) {
    const value = json[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw invalid(`'${field}' must be a whole number of at least 1`, field);
    }
  }
  const wanted = json.return_documents;
  if (wanted !== undefined && wanted !== null && typeof wanted !== 'boolean') {
    throw invalid("'return_documents' must be a boolean", 'return_documents');
  }
  const fields = json.rank_fields;
  if (
    fields !== undefined &&
    fields !== null &&
    !(Array.isArray(fields) && fields.every((field) => typeof field === 'string'))
  ) {
    throw invalid("'rank_fields' must be a list of strings", 'rank_fields');
  }
  if (json.stream !== undefined && json.stream !== null && json.stream !== false) {
    throw invalid('Reranks are answered whole: leave stream unset', 'stream');
  }
  return json;
}
