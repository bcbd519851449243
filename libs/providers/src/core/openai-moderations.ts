import type { Dispatcher } from 'undici';
import type { JsonAnswer, JsonObject, ProviderCall, TokenUsage } from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';
import { countTokens } from './tokenizer';
import { translatedJsonAnswer } from './translated-answer';
import { providerPost } from './upstream-http';

/**
 * One moderation at an endpoint of OpenAI's wire format: the body as the client sent it
 * with the served model, the answer as it came. OpenAI reports no usage for it (it is
 * free): the input's text is counted, marked estimated; images count nothing.
 */
export function invokeOpenAiModerations(
  call: ProviderCall,
  url: string,
  dispatcher: Dispatcher,
): Promise<JsonAnswer> {
  const { request, target } = call;
  const post = providerPost(call, url, { ...request.body, model: target.model });
  return translatedJsonAnswer(
    call,
    post,
    dispatcher,
    (body) =>
      Array.isArray(body.results)
        ? { body, usage: moderationUsage(request.body, body) }
        : undefined,
    'a body without its "results" list',
  );
}

/** The tokens a backend reported (as OpenAI's other endpoints name them), else the input's. */
export function moderationUsage(asked: JsonObject, answer: JsonObject): TokenUsage {
  const usage = answer.usage;
  const reported = isJsonObject(usage)
    ? (count(usage.input_tokens) ?? count(usage.prompt_tokens))
    : undefined;
  if (reported !== undefined) {
    return { inputTokens: reported, outputTokens: 0, cachedInputTokens: 0, source: 'reported' };
  }
  return {
    inputTokens: countTokens(moderationText(asked.input)),
    outputTokens: 0,
    cachedInputTokens: 0,
    source: 'estimated',
  };
}

/** The text of a moderation input: a string, strings, or the text parts of a multimodal list. */
export function moderationText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (!Array.isArray(input)) return '';
  const texts: string[] = [];
  for (const item of input) {
    if (typeof item === 'string') texts.push(item);
    else if (isJsonObject(item) && item.type === 'text' && typeof item.text === 'string') {
      texts.push(item.text);
    }
  }
  return texts.join('\n');
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
