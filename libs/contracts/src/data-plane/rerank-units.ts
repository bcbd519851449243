// What a rerank is billed in, shared by the edge's budget hold and the adapters' estimate
// when a backend reports nothing.

/** Documents one search unit covers (Cohere: a query with up to 100 documents). */
export const DOCUMENTS_PER_SEARCH = 100;
/**
 * Tokens of a document and the query together past which Cohere splits the document into
 * chunks, each counted as a document. Its older models split at 500; newer ones later, so
 * 500 errs upwards.
 */
export const RERANK_CHUNK_TOKENS = 500;

/**
 * The texts a rerank request ranks: its documents as strings, or as `{text}` objects
 * (LiteLLM's and Cohere v1's form); undefined when `documents` is neither.
 */
export function rerankDocumentTexts(documents: unknown): string[] | undefined {
  if (!Array.isArray(documents)) return undefined;
  const texts: string[] = [];
  for (const document of documents) {
    if (typeof document === 'string') texts.push(document);
    else if (
      document !== null &&
      typeof document === 'object' &&
      typeof (document as { text?: unknown }).text === 'string'
    ) {
      texts.push((document as { text: string }).text);
    } else return undefined;
  }
  return texts;
}

/** Search units of a rerank of documents of `documentTokens` each against `queryTokens`. */
export function rerankSearchUnits(documentTokens: readonly number[], queryTokens: number): number {
  let chunks = 0;
  for (const tokens of documentTokens) {
    chunks += Math.max(1, Math.ceil((tokens + queryTokens) / RERANK_CHUNK_TOKENS));
  }
  return Math.max(1, Math.ceil(chunks / DOCUMENTS_PER_SEARCH));
}
