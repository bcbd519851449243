import type { Dispatcher } from 'undici';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayAnswer,
  type JsonAnswer,
  type JsonObject,
  type ProviderCall,
  type RequestSetting,
  type UpstreamTarget,
  VERTEX_CLAUDE_SERVER_TOOLS,
} from '@aigw/contracts/data-plane';
import { AnthropicStreamTranslation } from '../anthropic/anthropic-stream';
import { fromAnthropicMessage } from '../anthropic/anthropic-response';
import { MESSAGES_BODY_SETTINGS, toAnthropicRequest } from '../anthropic/anthropic-request';
import { claudeOutputFormat } from '../anthropic/claude-output-format';
import { answerTool } from '../core/answer-tool';
import { withAliasedToolNames, withRestoredToolNames } from '../core/tool-name-aliases';
import {
  heldOutputOptions,
  parseChatRequest,
  unsupportedOperation,
  type ChatPrompt,
} from '../core/chat-request';
import { embeddingAsk, EMBEDDINGS_EXPECTED, type EmbeddingAsk } from '../core/embedding-input';
import { embeddingPartsAnswer, embeddingPartsOf } from '../core/embedding-parts';
import type { ProviderAdapter } from '../core/provider-adapter';
import { SettingsLeftOut, withDroppedSettings } from '../core/settings-left-out';
import { hasSpentUsage } from '../core/spent-usage';
import { sseMessages } from '../core/sse-events';
import { translatedStreamAnswer } from '../core/translated-stream';
import { asCompletionBody, translatedJsonAnswer } from '../core/translated-answer';
import {
  badResponse,
  providerPost,
  sendUpstream,
  sharedUpstreamAgent,
} from '../core/upstream-http';
import { fetchUpstreamJson } from '../core/upstream-json';
import { toGeminiRequest } from '../gemini/gemini-request';
import { fromGeminiResponse } from '../gemini/gemini-response';
import { geminiSettings } from '../gemini/gemini-settings';
import { GeminiStreamTranslation } from '../gemini/gemini-stream';
import { GoogleAccessTokens, type TokenRefreshListener } from './google-access-token';
import {
  notAnEmbeddingModel,
  readPredictAnswer,
  vertexPredictCalls,
  type VertexPredictCall,
} from './vertex-embeddings';
import { keepVertexClaudeBetas } from './vertex-claude-betas';
import { withProjectRefusalAsBackendError } from './vertex-project-refusal';
import { VERTEX_WEB_SEARCH_BETA, withBetas } from '../anthropic/server-tool-betas';
import { vertexModel, vertexModelUrl, type VertexModel } from './vertex-urls';

/**
 * :predict calls of one embeddings request in flight at once: Gemini embedding models
 * take one text per call, and a long list must not take all of the project's quota.
 */
const PARALLEL_PREDICT_CALLS = 4;

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
    // A signal that fired before this call would never call the listener.
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([token, gaveUp]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Vertex's 401: the bearer token was refused (revoked, expired early, its key disabled). */
function refusedToken(error: unknown): boolean {
  return error instanceof DataPlaneError && error.upstreamStatus === 401;
}

export interface VertexAdapterOptions {
  readonly dispatcher?: Dispatcher;
  readonly tokens?: GoogleAccessTokens;
  readonly onTokenRefresh?: TokenRefreshListener;
}

/** The settings a Vertex AI request takes: Claude's Messages API's, or Gemini's. */
export function vertexSettings(call: ProviderCall): ReadonlySet<RequestSetting> {
  return vertexModel(call.target.model).publisher === 'anthropic'
    ? MESSAGES_BODY_SETTINGS
    : geminiSettings(call);
}

/**
 * Google Vertex AI: Gemini (generateContent, the Gemini API's body), Claude (rawPredict,
 * Anthropic's Messages body) and Google's text embedding models (predict) in a project and location, with OAuth2 access tokens from a
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
    // Gemini and, as far as documented, Claude on Vertex take tool names of at most 64
    // characters: longer ones (Claude Code's MCP tools) go as aliases and come back whole.
    const aliased = withAliasedToolNames(call);
    return withRestoredToolNames(await this.answer(aliased.call), aliased.originals);
  }

  private async answer(call: ProviderCall): Promise<GatewayAnswer> {
    const { request, target } = call;
    const embeds = request.operation === 'embeddings';
    if (!embeds && request.operation !== 'chat') {
      throw unsupportedOperation('vertex', request.operation);
    }
    if (!target.vertex) {
      throw new DataPlaneError(
        DataPlaneErrorCode.UpstreamError,
        `backend "${target.backendName}" has no Vertex AI project and location`,
      );
    }
    const model = vertexModel(target.model);
    // The request is read (a bad one is its 400) before a token is fetched for it.
    // Gemini answers several candidates (n) and runs its built-in tools; Claude neither.
    const gemini = model.publisher === 'google';
    const work = embeds
      ? embeddingAsk(request.body)
      : parseChatRequest(request.body, {
          choices: gemini,
          logprobs: gemini,
          geminiTools: gemini,
          imageOutput: gemini,
          assistantImages: gemini,
          // Gemini reads wav and mp3 as inline data; Claude takes no audio.
          audio: gemini,
          // Claude on Vertex runs Anthropic's web search (Google's docs); Gemini none of them.
          // Claude cites documents there too (Anthropic's citations, on Vertex AI).
          ...(gemini
            ? {}
            : { anthropicServerTools: VERTEX_CLAUDE_SERVER_TOOLS, documentCitations: true }),
          // Claude requires max_tokens: without the client's, the one admission held.
          ...heldOutputOptions(request),
        });
    if (embeds && model.publisher !== 'google') throw notAnEmbeddingModel(target.model);
    const placement = target.vertex;
    const serviceAccountKey = target.credential?.apiKey.reveal();
    // The secret is the service-account key: it must never become a header.
    const bearer: ProviderCall = { ...call, target: { ...target, credential: undefined } };
    const send = async (): Promise<GatewayAnswer> => {
      const token = await withinFirstByteTimeout(
        call,
        this.tokens.accessToken(target.backendName, serviceAccountKey),
      );
      const headers = { authorization: `Bearer ${token}` };
      try {
        if ('inputs' in work) return await this.embed(bearer, placement, model, work, headers);
        return model.publisher === 'anthropic'
          ? await this.claude(bearer, placement, model, work, headers)
          : await this.gemini(bearer, placement, model, work, headers);
      } catch (error) {
        // A refused token is dropped: the retry below and the calls after get a fresh one.
        if (refusedToken(error)) this.tokens.refused(target.backendName, serviceAccountKey, token);
        throw error;
      }
    };
    try {
      return await send();
    } catch (error) {
      // A token Vertex refused before it expired (revoked, its key disabled) is replaced
      // and the call made once more, as Google's client libraries do: nothing of it was
      // answered. Not when part of it was billed (an embeddings list): that is recorded.
      if (!refusedToken(error) || hasSpentUsage(error)) {
        throw withProjectRefusalAsBackendError(error);
      }
    }
    try {
      return await send();
    } catch (error) {
      throw withProjectRefusalAsBackendError(error);
    }
  }

  /**
   * Embeddings through :predict: the inputs in the calls the model takes (one each for
   * Gemini embedding models, at most PARALLEL_PREDICT_CALLS at once), the vectors put
   * back in input order.
   */
  private async embed(
    call: ProviderCall,
    placement: NonNullable<UpstreamTarget['vertex']>,
    model: VertexModel,
    ask: EmbeddingAsk,
    headers: Record<string, string>,
  ): Promise<JsonAnswer> {
    const { request, target } = call;
    const url = vertexModelUrl(placement, model, 'predict', target.baseUrl);
    const predict = async (predictCall: VertexPredictCall) => {
      const post = providerPost(call, url, predictCall.body, headers);
      const answer = await fetchUpstreamJson(call, post, this.dispatcher);
      const part = readPredictAnswer(predictCall, answer.body, ask.dimensions);
      if (!part) throw badResponse(target.backendName, EMBEDDINGS_EXPECTED);
      return part;
    };
    const calls = vertexPredictCalls(model.id, ask, request.body);
    const parts = await embeddingPartsOf(calls, PARALLEL_PREDICT_CALLS, predict);
    return embeddingPartsAnswer(call, ask, parts);
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
      const translation = new GeminiStreamTranslation(
        target.backendName,
        target.model,
        prompt.choices,
      );
      return translatedStreamAnswer(call, sseMessages(response.body), translation);
    }
    return translatedJsonAnswer(
      call,
      post('generateContent'),
      this.dispatcher,
      (parsed) =>
        asCompletionBody(
          fromGeminiResponse(parsed, target.model, target.backendName, prompt.choices),
        ),
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
    // Beside the client's own tools a forced answer tool cannot stand (the model could never
    // call them): a Messages client's format goes natively where Vertex takes it.
    const outputFormat =
      prompt.tools.length > 0 ? claudeOutputFormat(request.body, model.id, 'vertex') : undefined;
    const tool = outputFormat ? undefined : answerTool(prompt, 'anthropic');
    const leftOut = new SettingsLeftOut();
    // Vertex names the model in the URL and the API version in the body.
    const { model: _model, ...messages } = toAnthropicRequest(
      prompt,
      model.id,
      request.stream,
      tool,
      leftOut.leaveOut,
    );
    const body: JsonObject = { anthropic_version: VERTEX_ANTHROPIC_VERSION, ...messages };
    if (outputFormat) {
      body.output_config = { ...((body.output_config ?? {}) as JsonObject), format: outputFormat };
    }
    const method = request.stream ? 'streamRawPredict' : 'rawPredict';
    const post = providerPost(
      call,
      vertexModelUrl(placement, model, method, target.baseUrl),
      body,
      headers,
    );
    keepVertexClaudeBetas(post.headers);
    // Vertex runs Claude's web search behind its preview beta.
    if ((prompt.anthropicServerTools?.length ?? 0) > 0) {
      const betas = withBetas(post.headers['anthropic-beta'], [VERTEX_WEB_SEARCH_BETA]);
      if (betas !== undefined) post.headers['anthropic-beta'] = betas;
    }
    if (request.stream) {
      const response = await sendUpstream(call, post, this.dispatcher);
      const translation = new AnthropicStreamTranslation(
        target.backendName,
        target.model,
        tool?.name,
      );
      const answer = translatedStreamAnswer(call, sseMessages(response.body), translation);
      return withDroppedSettings(answer, leftOut.list);
    }
    const answer = await translatedJsonAnswer(
      call,
      post,
      this.dispatcher,
      (parsed) => asCompletionBody(fromAnthropicMessage(parsed, target.model, tool?.name)),
      'a body that is not a Messages API message',
    );
    return withDroppedSettings(answer, leftOut.list);
  }
}
