import type { Dispatcher } from 'undici';
import {
  ANTHROPIC_SERVER_TOOLS,
  type AnthropicServerTool,
  type GatewayAnswer,
  type JsonObject,
  type ProviderCall,
} from '@aigw/contracts/data-plane';
import { answerTool } from '../core/answer-tool';
import { heldOutputOptions, parseChatRequest, unsupportedOperation } from '../core/chat-request';
import { ANTHROPIC_TOOL_NAME_LIMIT } from '../core/tool-name-limit';
import { withAliasedToolNames, withRestoredToolNames } from '../core/tool-name-aliases';
import type { ProviderAdapter } from '../core/provider-adapter';
import { sseMessages } from '../core/sse-events';
import { translatedStreamAnswer } from '../core/translated-stream';
import { asCompletionBody, translatedJsonAnswer } from '../core/translated-answer';
import { providerPost, sendUpstream, sharedUpstreamAgent } from '../core/upstream-http';
import { toAnthropicRequest } from './anthropic-request';
import { fromAnthropicMessage } from './anthropic-response';
import { AnthropicStreamTranslation } from './anthropic-stream';
import { SettingsLeftOut, withDroppedSettings } from '../core/settings-left-out';
import { anthropicServiceTier } from '../core/service-tier';
import { serverToolBetas, withBetas } from './server-tool-betas';
import { claudeOutputFormat, claudeTaskBudget } from './claude-output-format';
import { claudeContextManagement } from './claude-context-management';

/** Anthropic's own API runs every server tool. */
const ALL_SERVER_TOOLS: ReadonlySet<AnthropicServerTool> = new Set(ANTHROPIC_SERVER_TOOLS);

export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

/**
 * The URL of an Anthropic API path (`/messages`, `/messages/batches`) on a backend: its
 * configured URL taken with or without `/v1`.
 */
export function anthropicApiUrl(baseUrl: string | undefined, path: string): string {
  const root = (baseUrl ?? ANTHROPIC_BASE_URL).replace(/\/+$/, '').replace(/\/v1$/, '');
  return `${root}/v1${path}`;
}

/** The Messages API version every current model speaks. */
export const ANTHROPIC_VERSION = '2023-06-01';

/** The Messages API, spoken to from OpenAI chat requests. */
export class AnthropicAdapter implements ProviderAdapter {
  readonly name = 'anthropic';

  constructor(private readonly dispatcher: Dispatcher = sharedUpstreamAgent()) {}

  canHandle(provider: string): boolean {
    return provider === 'anthropic';
  }

  async invoke(call: ProviderCall): Promise<GatewayAnswer> {
    if (call.request.operation !== 'chat') {
      throw unsupportedOperation('anthropic', call.request.operation);
    }
    // Names Anthropic refuses (a Gemini client's `docs.search`) go as aliases and come back
    // as the client's own; names of up to 128 letters, digits, _ and - go as sent.
    const aliased = withAliasedToolNames(call, ANTHROPIC_TOOL_NAME_LIMIT);
    return withRestoredToolNames(await this.answer(aliased.call), aliased.originals);
  }

  private async answer(call: ProviderCall): Promise<GatewayAnswer> {
    const { request, target } = call;
    // Anthropic's own API takes tool names up to 128 characters (Claude Code's MCP tools)
    // and fetches PDFs by URL itself (Vertex's and Bedrock's Claude take neither).
    const prompt = parseChatRequest(request.body, {
      toolNameLimit: ANTHROPIC_TOOL_NAME_LIMIT,
      documentUrls: true,
      documentCitations: true,
      anthropicServerTools: ALL_SERVER_TOOLS,
      // A Messages client's inference_geo is the Claude API's own field (data residency).
      inferenceGeo: true,
      strictTools: true,
      // Anthropic requires max_tokens: without the client's, the one admission held.
      ...heldOutputOptions(request),
    });
    // A Messages client's structured outputs go as sent where the model has them (with its
    // thinking and tools); otherwise the JSON comes through a forced answer tool.
    const outputFormat = claudeOutputFormat(request.body, target.model, 'anthropic');
    const tool = outputFormat ? undefined : answerTool(prompt, 'anthropic');
    const answerToolName = tool?.name;
    const leftOut = new SettingsLeftOut();
    const body = toAnthropicRequest(prompt, target.model, request.stream, tool, leftOut.leaveOut);
    const taskBudget = claudeTaskBudget(request.body);
    if (outputFormat || taskBudget) {
      body.output_config = {
        ...((body.output_config ?? {}) as JsonObject),
        ...(outputFormat ? { format: outputFormat } : {}),
        ...(taskBudget ? { task_budget: taskBudget } : {}),
      };
    }
    if (prompt.inferenceGeo !== undefined) body.inference_geo = prompt.inferenceGeo;
    // Context editing, as sent (its beta rides in the client's anthropic-beta).
    const contextManagement = claudeContextManagement(prompt.contextManagement, body);
    if (contextManagement) body.context_management = contextManagement;
    // Anthropic's own API has tiers (Vertex's and Bedrock's Claude take theirs elsewhere).
    if (prompt.serviceTier !== undefined) {
      const tier = anthropicServiceTier(prompt.serviceTier);
      if (tier) body.service_tier = tier;
      else leftOut.leaveOut('service_tier', 'unsupported');
    }
    // A server tool still in beta runs only with its beta named (the client's kept).
    const betas = withBetas(
      request.forwardHeaders['anthropic-beta'],
      serverToolBetas(prompt.anthropicServerTools),
    );
    const post = providerPost(call, anthropicApiUrl(target.baseUrl, '/messages'), body, {
      'anthropic-version': ANTHROPIC_VERSION,
      ...(betas === undefined ? {} : { 'anthropic-beta': betas }),
    });
    if (request.stream) {
      const response = await sendUpstream(call, post, this.dispatcher);
      const translation = new AnthropicStreamTranslation(
        target.backendName,
        target.model,
        answerToolName,
        prompt.inferenceGeo,
      );
      const answer = translatedStreamAnswer(call, sseMessages(response.body), translation);
      return withDroppedSettings(answer, leftOut.list);
    }
    const answer = await translatedJsonAnswer(
      call,
      post,
      this.dispatcher,
      (parsed) =>
        asCompletionBody(
          fromAnthropicMessage(parsed, target.model, answerToolName, prompt.inferenceGeo),
        ),
      'a body that is not a Messages API message',
    );
    return withDroppedSettings(answer, leftOut.list);
  }
}
