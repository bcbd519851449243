import { rerankDocumentTexts, type JsonObject } from '@aigw/contracts/data-plane';

/**
 * Cohere's v2 rerank request: the served model, the query, the documents as texts (v2
 * takes strings only), and `top_n` and `max_tokens_per_doc` when sent. v2 has no
 * `return_documents` (the adapter adds the documents back to the answer) and no
 * `rank_fields`.
 */
export function toCohereRerankRequest(model: string, body: JsonObject): JsonObject {
  return {
    model,
    query: body.query,
    documents: rerankDocumentTexts(body.documents) ?? [],
    ...(typeof body.top_n === 'number' ? { top_n: body.top_n } : {}),
    ...(typeof body.max_tokens_per_doc === 'number'
      ? { max_tokens_per_doc: body.max_tokens_per_doc }
      : {}),
  };
}
