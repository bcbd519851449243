import { GatewayEndpoint } from '@aigw/contracts';

// Azure OpenAI's paths, mapped onto the endpoints the gateway already serves:
// - `/openai/deployments/{deployment}/chat/completions?api-version=...` (AzureOpenAI
//   clients), the deployment naming the model: the gateway's virtual model name;
// - `/openai/v1/...` (Azure's v1 API, the model in the body) as `/v1/...`;
// - `/openai/...` (an AzureOpenAI client's calls that name no deployment: models, files,
//   batches, responses) as `/v1/...`.
// `api-version` is read by nothing: any value (or none) is accepted.

/**
 * The prefixes Azure's clients put before OpenAI's paths, longest first (a path is
 * stripped of the first that matches).
 */
export const AZURE_PREFIXES = ['/openai/v1', '/openai'] as const;

/** Each prefix with the slash a path goes on with after it, made once. */
const AZURE_PREFIX_DIRS = AZURE_PREFIXES.map((prefix) => [prefix, `${prefix}/`] as const);

/** Where a deployment's calls start; the deployment name is the next segment. */
const DEPLOYMENTS = '/openai/deployments/';

/**
 * The model calls Azure serves under a deployment (the AzureOpenAI client's deployment
 * paths, less `/batches`: see DEPLOYMENT_BATCHES), by the path after the deployment.
 */
export const DEPLOYMENT_ENDPOINTS: ReadonlyMap<string, GatewayEndpoint> = new Map([
  ['/chat/completions', GatewayEndpoint.ChatCompletions],
  ['/completions', GatewayEndpoint.Completions],
  ['/embeddings', GatewayEndpoint.Embeddings],
  ['/audio/transcriptions', GatewayEndpoint.AudioTranscriptions],
  ['/audio/translations', GatewayEndpoint.AudioTranslations],
  ['/audio/speech', GatewayEndpoint.AudioSpeech],
  ['/images/generations', GatewayEndpoint.ImagesGenerations],
  ['/images/edits', GatewayEndpoint.ImagesEdits],
]);

/**
 * A batch created under a deployment: the openai package's AzureOpenAI client built with a
 * `deployment` posts `batches.create` there (`/batches` is among its deployment paths). Its
 * body names no model: the batch runs on its input file's, as at `/openai/batches`.
 */
export const DEPLOYMENT_BATCHES = '/batches';

/** Whether a URL is a deployment's batch creation (`/openai/deployments/{d}/batches`). */
export function isDeploymentBatchesPath(url: string): boolean {
  return underDeployment(url)?.operation === DEPLOYMENT_BATCHES;
}

/** The route pattern of a deployment's call (`/openai/deployments/:deployment/embeddings`). */
export function deploymentRoute(path: string): string {
  return `${DEPLOYMENTS}:deployment${path}`;
}

/** The path (no query) without an Azure prefix, or undefined when it has none. */
export function withoutAzurePrefix(path: string): string | undefined {
  for (const [prefix, dir] of AZURE_PREFIX_DIRS) {
    if (path === prefix || path.startsWith(dir)) return path.slice(prefix.length);
  }
  return undefined;
}

/** The deployment and model call an Azure deployment URL names, or undefined for any other. */
export function deploymentCallAt(
  url: string,
): { readonly deployment: string; readonly endpoint: GatewayEndpoint } | undefined {
  const under = underDeployment(url);
  const endpoint = under && DEPLOYMENT_ENDPOINTS.get(under.operation);
  return endpoint && { deployment: decoded(under.deployment), endpoint };
}

/**
 * A URL under a named deployment, split (query dropped) into the deployment as sent and
 * the path after it (`/chat/completions`); undefined for any other URL.
 */
function underDeployment(url: string): { deployment: string; operation: string } | undefined {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (!path.startsWith(DEPLOYMENTS)) return undefined;
  const rest = path.slice(DEPLOYMENTS.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  return { deployment: rest.slice(0, slash), operation: rest.slice(slash) };
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a malformed escape: named as sent
  }
}
