import type { Dispatcher } from 'undici';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type JsonObject,
  type ProviderCall,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import { AnthropicStreamTranslation } from '../anthropic/anthropic-stream';
import { fromAnthropicMessage } from '../anthropic/anthropic-response';
import { toAnthropicRequest } from '../anthropic/anthropic-request';
import { answerTool } from '../core/answer-tool';
import { parseChatRequest, unsupportedOperation, type ChatPrompt } from '../core/chat-request';
import type { ProviderAdapter } from '../core/provider-adapter';
import { sseMessages } from '../core/sse-events';
import { translatedStreamAnswer } from '../core/translated-stream';
import { asCompletionBody, translatedJsonAnswer } from '../core/translated-answer';
import { providerPost, sendUpstream, sharedUpstreamAgent } from '../core/upstream-http';
import { toGeminiRequest } from '../gemini/gemini-request';
import { fromGeminiResponse } from '../gemini/gemini-response';
import { GeminiStreamTranslation } from '../gemini/gemini-stream';
import { GoogleAccessTokens, type TokenRefreshListener } from './google-access-token';
import { vertexModel, vertexModelUrl, type VertexModel } from './vertex-urls';

/** The Messages API version Claude on Vertex AI takes, in the body rather than a header. */
export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

/**
 * Waits for a token no longer than the call may wait for its first byte, or until the
 * caller gives up: a hung metadata server then fails over like a hung backend. The shared
 * refresh goes on and fills the cache for the calls after.
 */
async function withinFirstByteTimeout(call: ProviderCall, token: Promise<string>): Promise<string> {
  const { signal, target } = call;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const gaveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new DataPlaneError(
            DataPlaneErrorCode.UpstreamTimeout,
            `backend "${target.backendName}": no access token within ${target.firstByteTimeoutMs} ms`,
          ),
        ),
      target.firstByteTimeoutMs,
    );
    onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([token, gaveUp]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

export interface VertexAdapterOptions {
  readonly dispatcher?: Dispatcher;
  readonly tokens?: GoogleAccessTokens;
  readonly onTokenRefresh?: TokenRefreshListener;
}

/**
 * Google Vertex AI: Gemini (generateContent, the Gemini API's body) and Claude (rawPredict,
 * Anthropic's Messages body) in a project and location, with OAuth2 access tokens from a
 * service-account key or the metadata server. The bodies are the Gemini and Anthropic
 * adapters' translations; only the URLs, the auth and Claude's version field differ.
 */
export class VertexAdapter implements ProviderAdapter {
  readonly name = 'vertex';
  private readonly dispatcher: Dispatcher;
  private readonly tokens: GoogleAccessTokens;

  constructor(options: VertexAdapterOptions = {}) {
    this.dispatcher = options.dispatcher ?? sharedUpstreamAgent();
    this.tokens =
      options.tokens ??
      new GoogleAccessTokens({
        dispatcher: this.dispatcher,
        onRefresh: options.onTokenRefresh,
        metadataHost: process.env.GCE_METADATA_HOST,
      });
  }

  canHandle(provider: string): boolean {
    return provider === 'vertex';
  }

  async invoke(call: ProviderCall): Promise<GatewayAnswer> {
    const { request, target } = call;
    if (request.operation === 'embeddings') {
      // Vertex embeds with :predict (instances/predictions), not the Gemini API's
      // batchEmbedContents: refused rather than half-translated.
      throw new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        `the vertex backend "${target.backendName}" does not serve embeddings yet (Vertex AI's :predict shape); route embeddings to a google-gemini or openai backend`,
      );
    }
    if (request.operation !== 'chat') throw unsupportedOperation('vertex', request.operation);
    if (!target.vertex) {
      throw new DataPlaneError(
        DataPlaneErrorCode.UpstreamError,
        `backend "${target.backendName}" has no Vertex AI project and location`,
      );
    }
    const model = vertexModel(target.model);
    const prompt = parseChatRequest(request.body);
    const token = await withinFirstByteTimeout(
      call,
      this.tokens.accessToken(target.backendName, target.credential?.apiKey.reveal()),
    );
    // The secret is the service-account key: it must never become a header.
    const bearer: ProviderCall = { ...call, target: { ...target, credential: undefined } };
    const headers = { authorization: `Bearer ${token}` };
    return model.publisher === 'anthropic'
      ? this.claude(bearer, target.vertex, model, prompt, headers)
      : this.gemini(bearer, target.vertex, model, prompt, headers);
  }

  private async gemini(
    call: ProviderCall,
    placement: NonNullable<UpstreamTarget['vertex']>,
    model: VertexModel,
    prompt: ChatPrompt,
    headers: Record<string, string>,
  ): Promise<GatewayAnswer> {
    const { request, target } = call;
    const body = toGeminiRequest(prompt);
    const post = (method: 'generateContent' | 'streamGenerateContent') =>
      providerPost(call, vertexModelUrl(placement, model, method, target.baseUrl), body, headers);
    if (request.stream) {
      const response = await sendUpstream(call, post('streamGenerateContent'), this.dispatcher);
      const translation = new GeminiStreamTranslation(target.backendName, target.model);
      return translatedStreamAnswer(call, sseMessages(response.body), translation);
    }
    return translatedJsonAnswer(
      call,
      post('generateContent'),
      this.dispatcher,
      (parsed) => asCompletionBody(fromGeminiResponse(parsed, target.model, target.backendName)),
      'a body that is not a GenerateContentResponse',
    );
  }

  private async claude(
    call: ProviderCall,
    placement: NonNullable<UpstreamTarget['vertex']>,
    model: VertexModel,
    prompt: ChatPrompt,
    headers: Record<string, string>,
  ): Promise<GatewayAnswer> {
    const { request, target } = call;
    const tool = answerTool(prompt, 'anthropic');
    // Vertex names the model in the URL and the API version in the body.
    const { model: _model, ...messages } = toAnthropicRequest(
      prompt,
      model.id,
      request.stream,
      tool,
    );
    const body: JsonObject = { anthropic_version: VERTEX_ANTHROPIC_VERSION, ...messages };
    const method = request.stream ? 'streamRawPredict' : 'rawPredict';
    const post = providerPost(
      call,
      vertexModelUrl(placement, model, method, target.baseUrl),
      body,
      headers,
    );
    if (request.stream) {
      const response = await sendUpstream(call, post, this.dispatcher);
      const translation = new AnthropicStreamTranslation(
        target.backendName,
        target.model,
        tool?.name,
      );
      return translatedStreamAnswer(call, sseMessages(response.body), translation);
    }
    return translatedJsonAnswer(
      call,
      post,
      this.dispatcher,
      (parsed) => asCompletionBody(fromAnthropicMessage(parsed, target.model, tool?.name)),
      'a body that is not a Messages API message',
    );
  }
}
