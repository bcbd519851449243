/** A route with one OpenAI backend (key `openai-key`): the least config a service loads. */
export const ONE_BACKEND_CONFIG = `kind: AIGatewayRoute
metadata: {name: r}
spec:
  backends:
  - {name: openai-main, provider: openai, model: gpt-4o, auth: {apiKeyRef: {name: openai-key}}}
`;
