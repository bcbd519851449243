import type { Dispatcher } from 'undici';
import {
  AUDIO_OPERATIONS,
  IMAGE_OPERATIONS,
  type GatewayAnswer,
  type Operation,
  type ProviderCall,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { unsupportedOperation } from '../core/chat-request';
import type { ProviderAdapter } from '../core/provider-adapter';
import { invokeOpenAiAudio } from '../core/openai-audio';
import { invokeOpenAiImages } from '../core/openai-images';
import { invokeOpenAiModerations } from '../core/openai-moderations';
import { invokeOpenAiSpeech } from '../core/openai-speech';
import { invokeOpenAiWire, type OpenAiWireEndpoint } from '../core/openai-wire';
import { invokeOpenAiRerank } from '../core/rerank';
import { sharedUpstreamAgent } from '../core/upstream-http';
import { isGoogleEndpoint, OPENAI_COMPATIBLE_BASE_URLS, resolveBaseUrl } from './openai-base-urls';
import { offersOperation, providerBody, providerWireRules } from './provider-fields';

const PATHS: Record<Operation, string> = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
  transcriptions: '/audio/transcriptions',
  translations: '/audio/translations',
  speech: '/audio/speech',
  images: '/images/generations',
  'image-edits': '/images/edits',
  'image-variations': '/images/variations',
  moderations: '/moderations',
  // vLLM serves Cohere's shape at /rerank, /v1/rerank and /v2/rerank; baseUrl ends in /v1.
  rerank: '/rerank',
  // A WebSocket (realtime/realtime-connector.ts), never an HTTP call of this adapter.
  realtime: '/realtime',
};

/** OpenAI and every provider that speaks its wire format (Mistral, Groq, vLLM, ...). */
export class OpenAiCompatibleAdapter implements ProviderAdapter {
  readonly name = 'openai-compatible';

  private readonly backends = new Map<string, Map<string | undefined, BackendEndpoints>>();

  constructor(private readonly dispatcher: Dispatcher = sharedUpstreamAgent()) {}

  canHandle(provider: string): boolean {
    return provider in OPENAI_COMPATIBLE_BASE_URLS;
  }

  /**
   * Not `async`: it hands back the call's own promise, where an async wrapper added one
   * promise and two ticks to every call; a failure here still comes back as a rejection.
   */
  invoke(call: ProviderCall): Promise<GatewayAnswer> {
    try {
      return this.call(call);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
  }

  private call(call: ProviderCall): Promise<GatewayAnswer> {
    const { request, target } = call;
    const backend = this.backendOf(target);
    const base = backend.base;
    if (!offersOperation(target.provider, request.operation, base)) {
      throw unsupportedOperation(target.provider, request.operation);
    }
    if (IMAGE_OPERATIONS.has(request.operation)) {
      return invokeOpenAiImages(call, base + PATHS[request.operation], this.dispatcher);
    }
    if (request.operation === 'moderations') {
      return invokeOpenAiModerations(call, base + PATHS.moderations, this.dispatcher);
    }
    if (request.operation === 'rerank') {
      return invokeOpenAiRerank(call, base + PATHS.rerank, this.dispatcher);
    }
    if (request.operation === 'speech') {
      return invokeOpenAiSpeech(call, base + PATHS.speech, this.dispatcher);
    }
    if (AUDIO_OPERATIONS.has(request.operation)) {
      return invokeOpenAiAudio(call, base + PATHS[request.operation], this.dispatcher);
    }
    let endpoint = backend.wire.get(request.operation);
    if (!endpoint) {
      endpoint = {
        url: base + PATHS[request.operation],
        keepsToolCallExtras: isGoogleEndpoint(base),
        ...providerWireRules(target.provider),
      };
      backend.wire.set(request.operation, endpoint);
    }
    return invokeOpenAiWire(forProvider(call), endpoint, this.dispatcher);
  }

  /** A backend's base URL and endpoints, by provider and configured URL, worked out once. */
  private backendOf(target: UpstreamTarget): BackendEndpoints {
    let byUrl = this.backends.get(target.provider);
    if (!byUrl) {
      byUrl = new Map();
      this.backends.set(target.provider, byUrl);
    }
    let backend = byUrl.get(target.baseUrl);
    if (!backend) {
      backend = { base: resolveBaseUrl(target.provider, target.baseUrl), wire: new Map() };
      if (byUrl.size >= MAX_BACKEND_URLS) byUrl.clear();
      byUrl.set(target.baseUrl, backend);
    }
    return backend;
  }
}

/** The call with its chat or embeddings body in the form its provider takes (provider-fields). */
function forProvider(call: ProviderCall): ProviderCall {
  const { request, target } = call;
  const reshape = providerBody(target.provider, request.operation);
  if (!reshape) return call;
  const body = reshape(request.body);
  return body === request.body ? call : { ...call, request: { ...request, body } };
}

/** More configured URLs of one provider than any config has; past it, start afresh. */
const MAX_BACKEND_URLS = 256;

/**
 * A backend's resolved base URL and its OpenAI-wire endpoints by operation: built per call
 * they were a key string, a regular expression test and an object on every request.
 */
interface BackendEndpoints {
  readonly base: string;
  readonly wire: Map<Operation, OpenAiWireEndpoint>;
}
