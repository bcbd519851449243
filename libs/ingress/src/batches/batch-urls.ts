/**
 * The endpoints a batch runs, each under the url OpenAI names it by. Azure OpenAI's
 * batch reference and samples name them without `/v1` (`"url": "/chat/completions"`,
 * `endpoint: "/chat/completions"`): the same endpoints.
 */
const CANONICAL_BATCH_URLS: ReadonlyMap<string, string> = new Map([
  ['/chat/completions', '/v1/chat/completions'],
  ['/embeddings', '/v1/embeddings'],
  ['/responses', '/v1/responses'],
]);

/**
 * A batch line's `url` (or a batch's `endpoint`) as OpenAI names it: Azure's unversioned
 * form gets its `/v1`, so the line is screened, estimated and run as the endpoint it is.
 * Anything else is kept as it came.
 */
export function canonicalBatchUrl<T>(url: T): T | string {
  return typeof url === 'string' ? (CANONICAL_BATCH_URLS.get(url) ?? url) : url;
}

/** The endpoints a batch runs, as OpenAI names them. */
export const BATCH_ENDPOINTS: ReadonlySet<string> = new Set(CANONICAL_BATCH_URLS.values());
