import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayEndpoint } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { BudgetAdmission } from './admission/budget-admission';
import { FilesAndBatches } from './batches/files-and-batches';
import {
  registerUnservedAzureDeploymentBatches,
  registerUnservedFilesAndBatches,
} from './batches/unserved-routes';
import { MESSAGES_DIALECT } from './anthropic/messages-dialect';
import { AUDIO_DIALECT } from './audio/audio-dialect';
import { registerAzureDeploymentRoutes } from './azure-edge/azure-routes';
import { registerFormParser } from './forms/form-parser';
import { SPEECH_DIALECT } from './audio/speech-dialect';
import { sendMessagesError } from './anthropic/messages-errors';
import { nameMessagesRequestId } from './anthropic/messages-request-id';
import { ResponseReuse } from './cache/response-reuse';
import { EdgeExchange, type EdgeCall, type EdgeDialect } from './http/edge-exchange';
import { anthropicModelEntry, modelEntry, wantsAnthropicShape } from './http/model-entries';
import { chatDialect } from './http/chat-dialect';
import { OPENAI_DIALECT } from './http/openai-dialect';
import {
  IMAGE_EDITS_DIALECT,
  IMAGE_VARIATIONS_DIALECT,
  IMAGES_DIALECT,
} from './images/images-dialect';
import { sendOpenAiError, toDataPlaneError } from './http/openai-errors';
import {
  ENDPOINT_PATHS,
  PATH_PREFIXES,
  refuseUnlistedRoute,
  type FixedPathEndpoint,
} from './http/public-paths';
import { registerGeminiRoutes } from './gemini/gemini-routes';
import { geminiCallerHeaders } from './gemini/gemini-dialect';
import { sendGeminiModel, wantsGeminiShape } from './gemini/gemini-models';
import { IngressPipeline } from './ingress-pipeline';
import { INGRESS_OBSERVER, type IngressObserver } from './ingress-observer';
import { responsesDialect } from './responses/responses-dialect';
import { ResponseState } from './responses/state/response-state';
import { MODERATIONS_DIALECT, RERANK_DIALECT } from './scoring/scoring-dialect';
import { StoredResponsesRoutes } from './responses/stored-responses-routes';
import { ConversationsRoutes } from './responses/conversations/conversations-routes';
import { registerStoreOffRoutes } from './responses/store-off-routes';
import { registerResponsesSideRoutes } from './responses/responses-side-routes';
import { REALTIME_EDGE, RealtimeEdge, type RealtimeEdgeOptions } from './realtime/realtime-edge';
import { REALTIME_NOT_SERVED } from './realtime/realtime-handshake';

/** The hot endpoints: every model call of the OpenAI (chat and Responses) and Anthropic APIs. */
function edgeRoutes(
  chat: EdgeDialect,
  responses: EdgeDialect,
): readonly [call: EdgeCall & { endpoint: FixedPathEndpoint }, dialect: EdgeDialect][] {
  return [
    [{ endpoint: GatewayEndpoint.ChatCompletions, operation: 'chat' }, chat],
    [{ endpoint: GatewayEndpoint.Completions, operation: 'completions' }, OPENAI_DIALECT],
    [{ endpoint: GatewayEndpoint.Embeddings, operation: 'embeddings' }, OPENAI_DIALECT],
    [{ endpoint: GatewayEndpoint.Messages, operation: 'chat' }, MESSAGES_DIALECT],
    [{ endpoint: GatewayEndpoint.Responses, operation: 'chat' }, responses],
    [{ endpoint: GatewayEndpoint.AudioTranscriptions, operation: 'transcriptions' }, AUDIO_DIALECT],
    [{ endpoint: GatewayEndpoint.AudioTranslations, operation: 'translations' }, AUDIO_DIALECT],
    [{ endpoint: GatewayEndpoint.AudioSpeech, operation: 'speech' }, SPEECH_DIALECT],
    [{ endpoint: GatewayEndpoint.ImagesGenerations, operation: 'images' }, IMAGES_DIALECT],
    [{ endpoint: GatewayEndpoint.ImagesEdits, operation: 'image-edits' }, IMAGE_EDITS_DIALECT],
    [
      { endpoint: GatewayEndpoint.ImagesVariations, operation: 'image-variations' },
      IMAGE_VARIATIONS_DIALECT,
    ],
    [{ endpoint: GatewayEndpoint.Moderations, operation: 'moderations' }, MODERATIONS_DIALECT],
    [{ endpoint: GatewayEndpoint.Rerank, operation: 'rerank' }, RERANK_DIALECT],
  ];
}

/**
 * The model calls as plain Fastify routes on the app's own instance, beside the Nest
 * controllers (the cold routes): they skip Nest's per-request handler pipeline (execution
 * context, parameter factories) but share everything else of the app: request ids, body
 * limit and JSON parsing, the app's hooks, and its exception filter, which Fastify's error
 * handler runs for what fails before the handler (a malformed or oversized body).
 * `EdgeExchange` catches every error of the handler itself.
 */
@Injectable()
export class EdgeRoutes implements OnModuleInit {
  private readonly exchange: EdgeExchange;
  private readonly routes: ReturnType<typeof edgeRoutes>;
  /** The Responses API's stored responses (retrieve, input items, delete), when kept. */
  private readonly storedResponses?: StoredResponsesRoutes;
  /** The Conversations API, kept beside them. */
  private readonly conversations?: ConversationsRoutes;
  /** OpenAI's Realtime API: WebSocket upgrades of `/v1/realtime`. */
  private readonly realtime: RealtimeEdge;
  private readonly realtimeServed: boolean;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly pipeline: IngressPipeline,
    @Inject(INGRESS_OBSERVER) observer: IngressObserver,
    @Optional() admission?: BudgetAdmission,
    @Optional() reuse?: ResponseReuse,
    @Optional() responses?: ResponseState,
    @Optional() @Inject(REALTIME_EDGE) realtime?: RealtimeEdgeOptions,
    @Optional() private readonly batches?: FilesAndBatches,
  ) {
    this.exchange = new EdgeExchange(pipeline, observer, admission, reuse);
    // Stored responses, and the Files API's files as chat's file parts and the Responses
    // API's input_file parts, when each is served.
    this.routes = edgeRoutes(
      chatDialect(batches && { files: batches.inputs, callers: pipeline }),
      responsesDialect(
        responses || batches
          ? { state: responses, callers: pipeline, files: batches?.inputs }
          : undefined,
      ),
    );
    this.storedResponses = responses && new StoredResponsesRoutes(responses, pipeline);
    const conversations = responses?.conversations;
    this.conversations = conversations && new ConversationsRoutes(conversations, pipeline);
    this.realtime = new RealtimeEdge(pipeline, realtime, admission, observer);
    this.realtimeServed = realtime !== undefined;
  }

  /** Runs while Nest registers its own routes, before the app listens. */
  onModuleInit(): void {
    const { httpAdapter } = this.adapterHost;
    if (httpAdapter.getType() !== 'fastify') {
      throw new Error(`the edge routes need the Fastify adapter, not ${httpAdapter.getType()}`);
    }
    const fastify = httpAdapter.getInstance<FastifyInstance>();
    registerFormParser(fastify);
    fastify.addHook('onRequest', nameMessagesRequestId);
    // Every upgrade request: a Realtime session, or an HTTP error for any other path.
    fastify.server.on('upgrade', (request, socket, head) =>
      this.realtime.upgrade(request, socket, head),
    );
    // The server's close waits for upgraded sockets: end the sessions first.
    fastify.addHook('preClose', (done) => {
      this.realtime.close();
      done();
    });
    // Google's Gemini API, its model in the path (`/v1beta/models/{model}:generateContent`).
    registerGeminiRoutes(fastify, this.exchange, this.pipeline, this.batches?.gemini);
    // Gemini's own paths are registered: every route from here on must be in SERVED_PATHS.
    let registering = true;
    fastify.addHook('onRoute', (route) => {
      if (registering) refuseUnlistedRoute(route.url, route.method);
    });
    for (const prefix of PATH_PREFIXES) {
      for (const [call, dialect] of this.routes) {
        fastify.post(prefix + ENDPOINT_PATHS[call.endpoint], (request, reply) =>
          this.exchange.serve(call, request, reply, dialect),
        );
      }
      // `client.models.retrieve(id)`. A Fastify wildcard: a model id may hold slashes
      // (`meta-llama/Llama-3-8B`), which a Nest route parameter does not match.
      fastify.get(`${prefix}/models/*`, (request, reply) => this.sendModel(request, reply));
      // Reached without `Upgrade: websocket`: say what the endpoint is.
      fastify.get(`${prefix}/realtime`, (request, reply) => this.sendRealtimeHint(request, reply));
      // Ephemeral keys for browsers' Realtime sessions, and WebRTC calls (501 where sessions
      // are not served).
      this.realtime.registerSecretsAndCalls(fastify, prefix);
      // input_tokens, cancel and compact: served (or refused) with the store on or off.
      registerResponsesSideRoutes(fastify, prefix, this.pipeline, this.batches?.inputs);
      if (this.storedResponses) this.storedResponses.register(fastify, prefix);
      else registerStoreOffRoutes(fastify, prefix);
      this.conversations?.register(fastify, prefix);
      if (this.batches) this.batches.register(fastify, prefix, this.pipeline);
      else registerUnservedFilesAndBatches(fastify, prefix);
    }
    // Azure OpenAI's `/openai/deployments/{deployment}/...`, the deployment the model.
    registerAzureDeploymentRoutes(fastify, this.exchange, this.routes);
    if (this.batches) this.batches.registerAzureDeploymentBatches(fastify, this.pipeline);
    else registerUnservedAzureDeploymentBatches(fastify);
    registering = false;
  }

  private sendRealtimeHint(request: FastifyRequest, reply: FastifyReply): void {
    if (!this.realtimeServed) {
      void reply.code(501).send(REALTIME_NOT_SERVED);
      return;
    }
    sendOpenAiError(
      reply,
      new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        'A realtime session is a WebSocket: connect with Upgrade: websocket to /v1/realtime?model=<model>',
      ),
      request.id,
    );
  }

  /** One model of those the caller may call (`modelFor`), else a 404 as for one not served. */
  private async sendModel(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (wantsGeminiShape(geminiCallerHeaders(request))) {
      return sendGeminiModel(request, reply, this.pipeline);
    }
    const anthropic = wantsAnthropicShape(request.headers);
    try {
      const asked = (request.params as { '*': string })['*'];
      const id = await this.pipeline.modelFor(request.headers, asked);
      void reply
        .header('x-request-id', request.id)
        .send(anthropic ? anthropicModelEntry(id) : modelEntry(id));
    } catch (error) {
      const send = anthropic ? sendMessagesError : sendOpenAiError;
      send(reply, toDataPlaneError(error), request.id);
    }
  }
}
