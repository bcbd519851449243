import type { BackendConfig, ProviderKind } from '@aigw/config';
import { ANTHROPIC_BASE_URL } from './anthropic/anthropic.adapter';
import { bedrockRegion } from './bedrock/bedrock-signer';
import { COHERE_BASE_URL } from './cohere/cohere.adapter';
import { GEMINI_BASE_URL } from './gemini/gemini.adapter';
import { OPENAI_COMPATIBLE_BASE_URLS } from './openai-compatible/openai-base-urls';
import { vertexOrigin } from './vertex/vertex-urls';

const DEFAULT_BASE_URLS: Partial<Record<ProviderKind, string>> = {
  anthropic: ANTHROPIC_BASE_URL,
  'google-gemini': GEMINI_BASE_URL,
  cohere: COHERE_BASE_URL,
};

/**
 * The origin a backend's calls go to, the key of its pool in `upstreamPoolStates`: its
 * baseUrl's, else its provider's public endpoint. Undefined for a backend that calls no
 * host (local) or whose host is not known (Bedrock without a region).
 */
export function backendOrigin(
  backend: Pick<BackendConfig, 'provider' | 'baseUrl' | 'vertex'>,
): string | undefined {
  try {
    if (backend.baseUrl !== undefined) return new URL(backend.baseUrl).origin;
    if (backend.provider === 'vertex') {
      return backend.vertex ? vertexOrigin(backend.vertex.location) : undefined;
    }
    if (backend.provider === 'bedrock') {
      const region = bedrockRegion(undefined);
      return region ? `https://bedrock-runtime.${region}.amazonaws.com` : undefined;
    }
    const base =
      DEFAULT_BASE_URLS[backend.provider] ?? OPENAI_COMPATIBLE_BASE_URLS[backend.provider];
    return base === undefined ? undefined : new URL(base).origin;
  } catch {
    return undefined;
  }
}
