import type { Dispatcher } from 'undici';
import type {
  JsonAnswer,
  JsonObject,
  ProviderCall,
  StreamAnswer,
  TokenUsage,
} from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';
import {
  imageEvents,
  PARTIAL_IMAGE_OUTPUT_TOKENS,
  streamedImagesAnswer,
} from './openai-image-events';
import { servedByTarget } from './openai-wire';
import { countTokens } from './tokenizer';
import { uploadForm } from './upload-form';
import {
  badResponse,
  credentialHeaders,
  providerPost,
  sendUpstream,
  type UpstreamPost,
} from './upstream-http';
import { fetchUpstreamJson } from './upstream-json';

/**
 * One image generation at an endpoint of OpenAI's wire format: the body as the client
 * sent it with the served model, the answer as it came. Usage counts the images made and
 * what they were asked as (`quality/size`), for per-image prices (dall-e-3), beside the
 * tokens gpt-image-1 reports (its images are output image tokens, an edit's input images the
 * input's image tokens, each priced apart); without a report, the prompt's tokens are counted.
 * With `stream: true` the backend's events are relayed instead (`streamImages`).
 */
export async function invokeOpenAiImages(
  call: ProviderCall,
  url: string,
  dispatcher: Dispatcher,
): Promise<JsonAnswer | StreamAnswer> {
  const { request, target } = call;
  const post = request.uploads
    ? formPost(call, url, uploadForm(request.body, target.model, request.uploads))
    : providerPost(call, url, { ...request.body, model: target.model });
  if (request.stream) return streamImages(call, post, dispatcher);
  const { body } = await fetchUpstreamJson(call, post, dispatcher);
  if (!Array.isArray(body.data)) {
    throw badResponse(target.backendName, 'a body without its "data" list');
  }
  return {
    kind: 'json',
    status: 200,
    body,
    usage: imageUsage(request.body, body),
    servedBy: servedByTarget(call),
  };
}

/**
 * A gpt-image stream: the backend's events relayed as they come (`imageEvents`), billed
 * as the JSON answer would be: the completed event's usage, else the prompt's estimate.
 */
async function streamImages(
  call: ProviderCall,
  post: UpstreamPost,
  dispatcher: Dispatcher,
): Promise<StreamAnswer> {
  const response = await sendUpstream(call, post, dispatcher);
  const type = response.headers['content-type'];
  let settle!: (usage: TokenUsage) => void;
  const usage = new Promise<TokenUsage>((resolve) => (settle = resolve));
  const events = imageEvents(
    response.body,
    typeof type === 'string' ? type : '',
    call,
    (completed, partials) => settle(streamUsage(call.request.body, completed, partials)),
  );
  return { kind: 'stream', status: 200, events, usage, servedBy: servedByTarget(call) };
}

/**
 * A stream's usage: its completed event's, as a JSON answer's. A stream cut (or left by
 * its client) before that event still made the partial images it sent, which OpenAI bills
 * as image output whatever follows: the estimate counts them, not the prompt alone.
 */
function streamUsage(
  asked: JsonObject,
  completed: readonly JsonObject[],
  partials: number,
): TokenUsage {
  const usage = imageUsage(asked, streamedImagesAnswer(completed));
  if (completed.length > 0 || partials === 0) return usage;
  const partialTokens = partials * PARTIAL_IMAGE_OUTPUT_TOKENS;
  return {
    ...usage,
    outputTokens: usage.outputTokens + partialTokens,
    imageOutputTokens: (usage.imageOutputTokens ?? 0) + partialTokens,
  };
}

/** An edit's form, with the call's forwarded headers and key. */
function formPost(
  call: ProviderCall,
  url: string,
  form: { contentType: string; body: Buffer },
): UpstreamPost {
  return {
    url,
    headers: {
      ...call.request.forwardHeaders,
      ...credentialHeaders(call.target),
      'content-type': form.contentType,
      accept: call.request.stream ? 'text/event-stream' : 'application/json',
    },
    body: form.body,
  };
}

/**
 * The images made, as asked, and the tokens reported (else the prompt's, estimated): of the
 * input, the image tokens (`input_tokens_details.image_tokens`, an edit's input images),
 * which OpenAI bills above text; of the output, the image tokens
 * (`output_tokens_details.image_tokens`), else all of it: what this API makes is images.
 */
export function imageUsage(asked: JsonObject, answer: JsonObject): TokenUsage {
  const images = Array.isArray(answer.data) ? answer.data.length : 0;
  const variant = imageVariant(asked);
  const counts = { images, ...(variant ? { imageVariant: variant } : {}) };
  const usage = answer.usage;
  const input = isJsonObject(usage) ? count(usage.input_tokens) : undefined;
  if (isJsonObject(usage) && input !== undefined) {
    const details = usage.input_tokens_details;
    // Never more than the input they are a part of.
    const imageInput = Math.min(
      (isJsonObject(details) ? count(details.image_tokens) : undefined) ?? 0,
      input,
    );
    const output = count(usage.output_tokens) ?? 0;
    const outputDetails = usage.output_tokens_details;
    // Without a breakdown the output is the images made; never more than the output.
    const imageOutput = Math.min(
      (isJsonObject(outputDetails) ? count(outputDetails.image_tokens) : undefined) ?? output,
      output,
    );
    return {
      inputTokens: input,
      outputTokens: output,
      cachedInputTokens: 0,
      ...(imageInput > 0 ? { imageInputTokens: imageInput } : {}),
      ...(imageOutput > 0 ? { imageOutputTokens: imageOutput } : {}),
      ...counts,
      source: 'reported',
    };
  }
  const prompt = typeof asked.prompt === 'string' ? asked.prompt : '';
  return {
    inputTokens: countTokens(prompt),
    outputTokens: 0,
    cachedInputTokens: 0,
    ...counts,
    source: 'estimated',
  };
}

/** `quality/size`, or the one of them the request sent, or undefined for neither. */
export function imageVariant(body: JsonObject): string | undefined {
  const parts = [body.quality, body.size].filter(
    (part): part is string => typeof part === 'string' && part !== '',
  );
  return parts.length > 0 ? parts.join('/') : undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
