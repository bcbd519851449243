import {
  countPromptTokens,
  type GatewayRequest,
  type JsonObject,
  modelNotAllowed,
  modelNotServed,
  promptMedia,
} from '@aigw/contracts/data-plane';
import { chatAudioTokensUpperBound } from '../admission/chat-audio-hold';
import { imageTokensPastEstimateOnAny, promptImagesOn } from '../admission/image-token-bound';
import type { IncomingHeaders } from '../identity/tier-selector';
import type { IngressPipeline } from '../ingress-pipeline';

/**
 * The input tokens of `chat`, a count-token route's request in chat's terms
 * (`/v1/messages/count_tokens`, Gemini's `:countTokens`, `/v1/responses/input_tokens`): an
 * estimate by our tokenizer (OpenAI's cl100k), erring high, its audio (a Gemini client's
 * inlineData audio) by its length and its images at what the models that may serve it bill
 * at most, as a call's hold counts them. The caller is identified, the model refused as
 * generating would refuse it and the prompt rules applied; nothing is routed.
 */
export async function countedInputTokens(
  pipeline: IngressPipeline,
  chat: JsonObject,
  headers: IncomingHeaders,
  requestId: string,
  /** Makes the prompt's gateway file ids what a call sends, as its edge's `withState` does. */
  withFiles?: (request: GatewayRequest) => GatewayRequest | Promise<GatewayRequest>,
): Promise<number> {
  const prepared = await pipeline.prepareUntraced('chat', chat, headers, requestId);
  refuseUncountableModel(pipeline, prepared);
  const whole = withFiles ? await withFiles(prepared) : prepared;
  // Counted as a provider would be sent it; nothing is, so nothing is reported.
  const redacted = pipeline.redact(whole, () => undefined);
  const models = pipeline.servingModelsOf(redacted);
  const media = promptMedia(redacted.body);
  const pastEstimate = imageTokensPastEstimateOnAny(models, promptImagesOn(redacted, media));
  return (
    countPromptTokens(redacted.body, media) +
    chatAudioTokensUpperBound(redacted.body) +
    pastEstimate +
    // Files sent by a backend's id, as the call's hold counts them.
    (redacted.heldFileTokens ?? 0)
  );
}

/**
 * A token count routes nothing, so the router's model checks never see it: made here as
 * the router makes them for a call (`planBackendChain`), in the same order and with the
 * same errors, so counting refuses a model exactly as generating would (a tier's forbidden
 * model 403, a name no route serves 404).
 */
function refuseUncountableModel(pipeline: IngressPipeline, request: GatewayRequest): void {
  const model = request.requestedModel;
  const allowed = request.allowedModels;
  if (allowed.length > 0 && !allowed.includes(model)) {
    throw modelNotAllowed(model);
  }
  if (!pipeline.servesModel(model)) {
    throw modelNotServed(model);
  }
}
