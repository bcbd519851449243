import { GatewayEndpoint } from '@aigw/contracts';
import { routePatternMatcher } from '@aigw/runtime';
import {
  AZURE_PREFIXES,
  deploymentCallAt,
  isDeploymentBatchesPath,
  withoutAzurePrefix,
} from '../azure-edge/azure-paths';
import { geminiEndpointAt, isGeminiPath } from '../gemini/gemini-paths';

// The public API's paths, in one place: which are served, under which prefixes, and with
// which methods, so a known path asked with the wrong method gets a 405 naming the right
// one instead of a 404 that reads as a wrong base URL.

/**
 * Every public path is served with and without `/v1`: an SDK's base URL is set either
 * way (`http://gateway/v1` for OpenAI's, `http://gateway` for many others); and under
 * Azure OpenAI's `/openai/v1` and `/openai` (azure-edge/azure-paths.ts).
 */
export const PATH_PREFIXES = ['/v1', '', ...AZURE_PREFIXES] as const;

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

/**
 * Every other path the API serves (beside the model calls, POST), with its methods: the
 * one list a 405's `Allow` is read from. A `:name` is one path segment, a trailing `*`
 * the rest of the path (a model id may hold slashes). EdgeRoutes checks each route it
 * registers against it, so a new route missing here fails at start-up, not with a 404.
 * Paths served only with a setting (conversations with the response store, files and
 * batches with a Files backend) are listed anyway: without it they answer a refusal.
 * The analytics API (`/v1/analytics/*`) is not: it is mounted only where the usage
 * analytics are (the all-in-one gateway, the usage-sink), which hand its own table
 * (ANALYTICS_PATHS, libs/usage-sink) to their exception filter.
 */
export const SERVED_PATHS: readonly (readonly [pattern: string, methods: readonly string[]])[] = [
  ['/messages/count_tokens', ['POST']],
  ['/messages/batches', ['GET', 'POST']],
  ['/messages/batches/:id', ['GET', 'DELETE']],
  ['/messages/batches/:id/cancel', ['POST']],
  ['/messages/batches/:id/results', ['GET']],
  ['/models', ['GET', 'HEAD']],
  ['/models/*', ['GET', 'HEAD']],
  ['/realtime', ['GET']],
  ['/realtime/client_secrets', ['POST']],
  ['/realtime/calls', ['POST']],
  ['/realtime/calls/:call_id/hangup', ['POST']],
  ['/realtime/calls/:call_id/accept', ['POST']],
  ['/realtime/calls/:call_id/reject', ['POST']],
  ['/realtime/calls/:call_id/refer', ['POST']],
  // Before `/responses/:id`, which their paths also match (the first match names the methods).
  ['/responses/input_tokens', ['POST']],
  ['/responses/compact', ['POST']],
  ['/responses/:id', ['GET', 'DELETE']],
  ['/responses/:id/input_items', ['GET']],
  ['/responses/:id/cancel', ['POST']],
  ['/conversations', ['POST']],
  ['/conversations/:id', ['GET', 'POST', 'DELETE']],
  ['/conversations/:id/items', ['GET', 'POST']],
  ['/conversations/:id/items/:item_id', ['GET', 'DELETE']],
  ['/files', ['GET', 'POST']],
  ['/files/:id', ['GET', 'DELETE']],
  ['/files/:id/content', ['GET']],
  ['/batches', ['GET', 'POST']],
  ['/batches/:id', ['GET']],
  ['/batches/:id/cancel', ['POST']],
];

/** Each served path pattern, as a whole-path matcher, with its methods. */
const PATH_METHODS: readonly (readonly [RegExp, readonly string[]])[] = [
  ...[...ENDPOINT_AT.keys()].map((path) => [routePatternMatcher(path), ['POST']] as const),
  ...SERVED_PATHS.map(([pattern, methods]) => [routePatternMatcher(pattern), methods] as const),
];

/** The path without its query and without the `/v1` prefix (or an Azure one). */
export function unprefixedPath(url: string): string {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (path === '/v1' || path.startsWith('/v1/')) return path.slice(3);
  return withoutAzurePrefix(path) ?? path;
}

/** The model call a URL names, `/v1` or not, if any. */
export function endpointAt(url: string): GatewayEndpoint | undefined {
  return (
    ENDPOINT_AT.get(unprefixedPath(url)) ?? geminiEndpointAt(url) ?? deploymentCallAt(url)?.endpoint
  );
}

/** The methods a public path answers (for `Allow`), or undefined for a path not served. */
export function methodsAllowedAt(url: string): readonly string[] | undefined {
  if (isGeminiPath(url) || deploymentCallAt(url) || isDeploymentBatchesPath(url)) return ['POST'];
  const path = unprefixedPath(url);
  return PATH_METHODS.find(([matcher]) => matcher.test(path))?.[1];
}

/**
 * Throws for a route (`/v1/files/:id`, GET) the table does not list: it would answer a
 * wrong method with a 404 instead of a 405 naming its methods. HEAD is served wherever GET
 * is (Fastify answers it from the GET), so a GET's HEAD passes.
 */
export function refuseUnlistedRoute(pattern: string, method: string | readonly string[]): void {
  const allowed = methodsAllowedAt(pattern) ?? [];
  for (const one of typeof method === 'string' ? [method] : method) {
    if (!allowed.includes(one) && !(one === 'HEAD' && allowed.includes('GET'))) {
      throw new Error(
        `${one} ${pattern} is registered but not listed in SERVED_PATHS (public-paths.ts)`,
      );
    }
  }
}
