import { GatewayEndpoint } from '@aigw/contracts';
import { geminiEndpointAt, isGeminiPath } from '../gemini/gemini-paths';

// The public API's paths, in one place: which are served, under which prefixes, and with
// which methods, so a known path asked with the wrong method gets a 405 naming the right
// one instead of a 404 that reads as a wrong base URL.

/**
 * Every public path is served with and without `/v1`: an SDK's base URL is set either
 * way (`http://gateway/v1` for OpenAI's, `http://gateway` for many others).
 */
export const PATH_PREFIXES = ['/v1', ''] as const;

/**
 * The model calls at one fixed path; the Gemini API's name their model in theirs, and a
 * Realtime session is a WebSocket upgrade (realtime-edge.ts), not a POST.
 */
export type FixedPathEndpoint = Exclude<
  GatewayEndpoint,
  | GatewayEndpoint.GeminiGenerateContent
  | GatewayEndpoint.GeminiStreamGenerateContent
  | GatewayEndpoint.GeminiEmbedContent
  | GatewayEndpoint.GeminiBatchEmbedContents
  | GatewayEndpoint.Realtime
>;

/** The path of each model call (POST), which its requests are counted under. */
export const ENDPOINT_PATHS: Readonly<Record<FixedPathEndpoint, string>> = {
  [GatewayEndpoint.ChatCompletions]: '/chat/completions',
  [GatewayEndpoint.Completions]: '/completions',
  [GatewayEndpoint.Embeddings]: '/embeddings',
  [GatewayEndpoint.Messages]: '/messages',
  [GatewayEndpoint.Responses]: '/responses',
  [GatewayEndpoint.AudioTranscriptions]: '/audio/transcriptions',
  [GatewayEndpoint.AudioTranslations]: '/audio/translations',
  [GatewayEndpoint.AudioSpeech]: '/audio/speech',
  [GatewayEndpoint.ImagesGenerations]: '/images/generations',
  [GatewayEndpoint.ImagesEdits]: '/images/edits',
  [GatewayEndpoint.ImagesVariations]: '/images/variations',
  [GatewayEndpoint.Moderations]: '/moderations',
  [GatewayEndpoint.Rerank]: '/rerank',
};

const ENDPOINT_AT = new Map(
  Object.entries(ENDPOINT_PATHS).map(([endpoint, path]) => [path, endpoint as GatewayEndpoint]),
);

/** Paths of the model calls and token counts: POST only. */
const POST_PATHS = new Set([...ENDPOINT_AT.keys(), '/messages/count_tokens']);

/** The path without its query and without the `/v1` prefix. */
export function unprefixedPath(url: string): string {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  return path === '/v1' || path.startsWith('/v1/') ? path.slice(3) : path;
}

/** The model call a URL names, `/v1` or not, if any. */
export function endpointAt(url: string): GatewayEndpoint | undefined {
  return ENDPOINT_AT.get(unprefixedPath(url)) ?? geminiEndpointAt(url);
}

/** The methods a public path answers (for `Allow`), or undefined for a path not served. */
export function methodsAllowedAt(url: string): readonly string[] | undefined {
  const path = unprefixedPath(url);
  if (POST_PATHS.has(path) || isGeminiPath(url)) return ['POST'];
  if (path === '/models' || path.startsWith('/models/')) return ['GET', 'HEAD'];
  return conversationMethods(path);
}

/** The Conversations API's paths (served when the response store is on). */
function conversationMethods(path: string): readonly string[] | undefined {
  if (!path.startsWith('/conversations')) return undefined;
  const depth = path.split('/').length - 1;
  if (path === '/conversations') return ['POST'];
  if (depth === 2) return ['GET', 'POST', 'DELETE'];
  if (depth === 3 && path.endsWith('/items')) return ['GET', 'POST'];
  if (depth === 4 && path.split('/')[3] === 'items') return ['GET', 'DELETE'];
  return undefined;
}
