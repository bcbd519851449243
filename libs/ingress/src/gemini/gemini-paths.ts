import { GatewayEndpoint } from '@aigw/contracts';

// Google's Gemini API paths: `/{version}/models/{model}:{method}`, the model the
// gateway's virtual model name (which may hold slashes) and the method after its colon;
// and a tuned model's `/{version}/tunedModels/{id}:{method}` (what Google's SDKs call for
// `model: 'tunedModels/{id}'`), whose virtual model is `tunedModels/{id}` as written.

/** The API versions Google's SDKs put before `models/` (`v1beta` by default). */
export const GEMINI_PREFIXES = ['/v1beta', '/v1', ''] as const;

/**
 * The collections a model call is made on: base models, and tuned models, whose name keeps
 * its collection (`tunedModels/{id}`), as the Gemini API and its SDKs name them.
 */
export const GEMINI_MODEL_COLLECTIONS = ['models', 'tunedModels'] as const;

/** The model name a call on `collection` names by `name`: a tuned model's keeps its collection. */
export function collectionModel(collection: string, name: string): string {
  return collection === 'tunedModels' ? `tunedModels/${name}` : name;
}

export type GeminiMethod =
  | 'generateContent'
  | 'streamGenerateContent'
  | 'countTokens'
  | 'embedContent'
  | 'batchEmbedContents';

/** The methods served at `models/{model}:{method}`, each counted under its endpoint. */
const ENDPOINTS: Readonly<Record<GeminiMethod, GatewayEndpoint>> = {
  generateContent: GatewayEndpoint.GeminiGenerateContent,
  streamGenerateContent: GatewayEndpoint.GeminiStreamGenerateContent,
  // A token count is counted with the calls it sizes (it calls no model).
  countTokens: GatewayEndpoint.GeminiGenerateContent,
  embedContent: GatewayEndpoint.GeminiEmbedContent,
  batchEmbedContents: GatewayEndpoint.GeminiBatchEmbedContents,
};

const METHODS = new Set<string>(Object.keys(ENDPOINTS));

/** The model and method a Gemini path names, e.g. `gemini-pro:generateContent`. */
export function geminiTarget(
  target: string,
): { readonly model: string; readonly method: GeminiMethod } | undefined {
  const colon = target.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const method = target.slice(colon + 1);
  if (!METHODS.has(method)) return undefined;
  return { model: target.slice(0, colon), method: method as GeminiMethod };
}

/** The part after `models/` (a tuned model's whole name) of a Gemini API URL, else undefined. */
function modelsTarget(url: string): string | undefined {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  for (const prefix of GEMINI_PREFIXES) {
    for (const collection of GEMINI_MODEL_COLLECTIONS) {
      const start = `${prefix}/${collection}/`;
      if (path.startsWith(start)) {
        return collectionModel(collection, decoded(path.slice(start.length)));
      }
    }
  }
  return undefined;
}

/** Whether a URL is a Gemini API call (its errors take Google's shape). */
export function isGeminiPath(url: string): boolean {
  const target = modelsTarget(url);
  return target !== undefined && geminiTarget(target) !== undefined;
}

/** The endpoint a Gemini API URL is counted under, if it is one. */
export function geminiEndpointAt(url: string): GatewayEndpoint | undefined {
  const target = modelsTarget(url);
  const method = target === undefined ? undefined : geminiTarget(target)?.method;
  return method === undefined ? undefined : ENDPOINTS[method];
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a malformed escape: matched as sent
  }
}
