import type { Dispatcher } from 'undici';
import type { JsonAnswer, JsonObject, ProviderCall, TokenUsage } from '@aigw/contracts/data-plane';
import { servedByTarget } from './openai-wire';
import { badResponse, credentialHeaders, readJsonObject, sendUpstream } from './upstream-http';

/**
 * POSTs a JSON body for a provider with its own wire format: the caller's forwarded
 * headers, the configured key, the provider's own headers, and the Accept the call's
 * stream flag asks for.
 */
export function postProviderJson(
  call: ProviderCall,
  url: string,
  body: JsonObject,
  dispatcher: Dispatcher,
  providerHeaders: Record<string, string> = {},
): Promise<Dispatcher.ResponseData> {
  const { request, target } = call;
  return sendUpstream(
    call,
    {
      url,
      headers: {
        ...request.forwardHeaders,
        ...credentialHeaders(target),
        ...providerHeaders,
        'content-type': 'application/json',
        accept: request.stream ? 'text/event-stream' : 'application/json',
      },
      body: JSON.stringify(body),
    },
    dispatcher,
  );
}

/**
 * A complete answer read from a backend's JSON body through `translate`; a body it cannot
 * translate is a bad response naming what was `expected`.
 */
export async function translatedJsonAnswer(
  call: ProviderCall,
  response: Dispatcher.ResponseData,
  translate: (body: JsonObject) => { body: JsonObject; usage: TokenUsage } | undefined,
  expected: string,
): Promise<JsonAnswer> {
  const { backendName } = call.target;
  const parsed = await readJsonObject(response.body, backendName, call.signal);
  const answer = translate(parsed);
  if (!answer) throw badResponse(backendName, expected);
  return { kind: 'json', status: 200, ...answer, servedBy: servedByTarget(call) };
}

/** A chat translation's completion as the answer's body. */
export function asCompletionBody(
  answer: { completion: JsonObject; usage: TokenUsage } | undefined,
): { body: JsonObject; usage: TokenUsage } | undefined {
  return answer && { body: answer.completion, usage: answer.usage };
}
