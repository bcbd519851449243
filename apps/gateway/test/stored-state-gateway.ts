// For the specs of what the all-in-one gateway stores per caller (Conversations API, stored
// responses): the second route identifying users another way, the caller's client, and the
// 404 a caller gets for what is not theirs.
import OpenAI from 'openai';

/**
 * After a route's YAML: the route `other-identity`, keying users by x-other-user, its model
 * `gpt-other` served by `upstreamUrl`'s upstream-plain-model.
 */
export const otherIdentityRoute = (upstreamUrl: string) => `---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: other-identity}
spec:
  backends:
  - name: other
    provider: vllm
    baseUrl: ${upstreamUrl}
    model: upstream-plain-model
    modelNameOverride: gpt-other
  userIdentification: {header: x-other-user}
`;

/** An OpenAI client for the gateway at `gatewayUrl` as `user` (x-user-id). */
export const clientAs = (gatewayUrl: string, user: string) =>
  new OpenAI({
    baseURL: `${gatewayUrl}/v1`,
    apiKey: 'unused',
    maxRetries: 0,
    defaultHeaders: { 'x-user-id': user },
  });

/** Whether `error` is an OpenAI-style 404 (naming `param`, where given). */
export const notFound = (param?: string) => (error: unknown) =>
  error instanceof OpenAI.NotFoundError &&
  error.type === 'invalid_request_error' &&
  (param === undefined || error.param === param);

/**
 * Whether `error` is OpenAI's answer to a `previous_response_id` that cannot be continued
 * (unknown, expired, deleted, never stored or another caller's): a 400 with code
 * `previous_response_not_found`, which clients test for before resending the conversation.
 */
export const previousNotFound = (error: unknown) =>
  error instanceof OpenAI.BadRequestError &&
  error.type === 'invalid_request_error' &&
  error.param === 'previous_response_id' &&
  error.code === 'previous_response_not_found';
