import type { UpstreamTarget } from '@aigw/contracts/data-plane';
import { resolveBaseUrl } from '../openai-compatible/openai-base-urls';

/** The providers whose API serves OpenAI's Realtime WebSocket: OpenAI and Azure OpenAI. */
export const REALTIME_PROVIDERS: ReadonlySet<string> = new Set(['openai', 'azure']);

/**
 * The backend's Realtime WebSocket URL for its model: OpenAI's
 * `wss://api.openai.com/v1/realtime?model=...` (under a configured baseUrl's path), or
 * Azure OpenAI's GA (v1) form, `wss://NAME.openai.azure.com/openai/v1/realtime?model=DEPLOYMENT`.
 */
export function realtimeUrl(target: UpstreamTarget): string {
  if (target.provider === 'azure') {
    if (!target.baseUrl) {
      throw new Error(
        'an azure backend needs baseUrl, the resource endpoint (https://NAME.openai.azure.com)',
      );
    }
    const base = new URL(target.baseUrl);
    // The resource endpoint, with or without `/openai` or `/openai/v1` after it.
    const path = base.pathname.replace(/\/+$/, '').replace(/\/openai(\/v1)?$/, '');
    return withModel(`${socketOrigin(base)}${path}/openai/v1/realtime`, target.model);
  }
  const base = new URL(resolveBaseUrl(target.provider, target.baseUrl));
  return withModel(`${socketOrigin(base)}${base.pathname}/realtime`, target.model);
}

/** The origin with https as wss (http as ws, for a local server). */
function socketOrigin(url: URL): string {
  const scheme = url.protocol === 'http:' ? 'ws:' : 'wss:';
  return `${scheme}//${url.host}`;
}

function withModel(url: string, model: string): string {
  return `${url}?model=${encodeURIComponent(model)}`;
}
