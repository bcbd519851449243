import type { UpstreamTarget } from '@aigw/contracts/data-plane';
import { azureOpenAiPath } from '../azure/azure-urls';
import { resolveBaseUrl } from '../openai-compatible/openai-base-urls';

/** The providers whose API serves OpenAI's Realtime WebSocket: OpenAI and Azure OpenAI. */
export const REALTIME_PROVIDERS: ReadonlySet<string> = new Set(['openai', 'azure']);

/**
 * The backend's Realtime WebSocket URL for its model: OpenAI's
 * `wss://api.openai.com/v1/realtime?model=...` (under a configured baseUrl's path), or
 * Azure OpenAI's (azureRealtimeUrl).
 */
export function realtimeUrl(target: UpstreamTarget): string {
  if (target.provider === 'azure') return azureRealtimeUrl(target.baseUrl, target.model);
  const base = new URL(resolveBaseUrl(target.provider, target.baseUrl));
  return withModel(`${socketOrigin(base)}${base.pathname}/realtime`, target.model);
}

/**
 * Azure OpenAI's Realtime URL for a deployment. Its GA (v1) form,
 * `wss://NAME.openai.azure.com/openai/v1/realtime?model=DEPLOYMENT`, takes no api-version;
 * a baseUrl that names a preview one (`?api-version=2025-04-01-preview`) asks for the dated
 * preview form, `/openai/realtime?api-version=...&deployment=DEPLOYMENT`, which speaks the
 * beta events: frames are relayed as sent, so clients written for those keep working.
 * Only `-preview` versions serve realtime there (Microsoft documents the api-version as
 * preview-only); a GA one such as `2024-10-21` pins the backend's chat calls
 * (azureDeploymentUrl) and keeps realtime on the GA form.
 */
function azureRealtimeUrl(baseUrl: string | undefined, deployment: string): string {
  if (!baseUrl) {
    throw new Error(
      'an azure backend needs baseUrl, the resource endpoint (https://NAME.openai.azure.com)',
    );
  }
  const base = new URL(baseUrl);
  const openai = `${socketOrigin(base)}${azureOpenAiPath(base)}`;
  const apiVersion = base.searchParams.get('api-version');
  if (!apiVersion?.endsWith('-preview')) return withModel(`${openai}/v1/realtime`, deployment);
  const query = new URLSearchParams({ 'api-version': apiVersion, deployment });
  return `${openai}/realtime?${query.toString()}`;
}

/** The origin with https as wss (http as ws, for a local server). */
function socketOrigin(url: URL): string {
  const scheme = url.protocol === 'http:' ? 'ws:' : 'wss:';
  return `${scheme}//${url.host}`;
}

function withModel(url: string, model: string): string {
  return `${url}?model=${encodeURIComponent(model)}`;
}
