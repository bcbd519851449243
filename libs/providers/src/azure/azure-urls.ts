import type { Operation } from '@aigw/contracts/data-plane';
import { pathSegment } from '../core/path-segment';

/**
 * The newest GA `api-version` of Azure OpenAI's dated inference API. A deployment can
 * use another one: `?api-version=` in the backend's baseUrl wins, then the
 * AZURE_OPENAI_API_VERSION environment variable, then this default.
 */
export const AZURE_DEFAULT_API_VERSION = '2024-10-21';

/** Azure OpenAI's deployment paths; it has no moderations or rerank API. */
const OPERATION_PATHS: Readonly<Partial<Record<Operation, string>>> = {
  chat: 'chat/completions',
  completions: 'completions',
  embeddings: 'embeddings',
  transcriptions: 'audio/transcriptions',
  translations: 'audio/translations',
  speech: 'audio/speech',
  images: 'images/generations',
  'image-edits': 'images/edits',
};

/**
 * The path of the resource's `/openai` under an Azure backend's baseUrl: the resource
 * endpoint (https://NAME.openai.azure.com), with or without `/openai` or `/openai/v1` (the
 * base URL Azure's v1 API documents) after it. Every Azure call (deployments, Files and
 * Batch, Realtime) reads its baseUrl so.
 */
export function azureOpenAiPath(base: URL): string {
  return `${base.pathname.replace(/\/+$/, '').replace(/\/openai(\/v1)?$/, '')}/openai`;
}

/**
 * The api-version of an Azure backend's calls: its baseUrl's `?api-version=`, else
 * AZURE_OPENAI_API_VERSION, else the GA default. `v1` asks for Azure's v1 API, whose paths
 * (`/openai/v1/...`) take none.
 */
export function azureApiVersion(base: URL, env: NodeJS.ProcessEnv): string {
  return (
    base.searchParams.get('api-version') ||
    env.AZURE_OPENAI_API_VERSION ||
    AZURE_DEFAULT_API_VERSION
  );
}

/**
 * The first dated api-version that defines chat's `stream_options` and
 * `max_completion_tokens` (both came in 2024-09-01-preview). An older one (GA 2024-02-01 and
 * 2024-06-01, still served) answers 400 "Unrecognized request argument supplied" to either.
 */
const FIRST_VERSION_WITH_NEWER_CHAT_FIELDS = '2024-09-01';

/**
 * Whether an api-version takes `stream_options` and `max_completion_tokens`: `v1` and every
 * dated one from 2024-09-01-preview on; a version in no form known here is taken to.
 */
export function azureTakesNewerChatFields(apiVersion: string): boolean {
  const date = /^\d{4}-\d{2}-\d{2}/.exec(apiVersion)?.[0];
  return date === undefined || date >= FIRST_VERSION_WITH_NEWER_CHAT_FIELDS;
}

/**
 * The URL of one deployment's operation (`baseUrl`: azureOpenAiPath). The api-version `v1`
 * asks for that API: `/openai/v1/{operation}`, with no api-version, the deployment named by
 * the body's `model` (as every call here sends it).
 */
export function azureDeploymentUrl(
  baseUrl: string | undefined,
  deployment: string,
  operation: Operation,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (!baseUrl) {
    throw new Error(
      'an azure backend needs baseUrl, the resource endpoint (https://NAME.openai.azure.com)',
    );
  }
  const operationPath = OPERATION_PATHS[operation];
  if (operationPath === undefined) throw new Error(`Azure OpenAI has no ${operation} API`);
  const base = new URL(baseUrl);
  const apiVersion = azureApiVersion(base, env);
  const path = azureOpenAiPath(base);
  if (apiVersion === 'v1') return `${base.origin}${path}/v1/${operationPath}`;
  const url = new URL(
    `${base.origin}${path}/deployments/${pathSegment(deployment)}/${operationPath}`,
  );
  url.searchParams.set('api-version', apiVersion);
  return url.toString();
}
