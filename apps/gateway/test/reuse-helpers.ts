import assert from 'node:assert/strict';
import type { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';

// Shared by the response-reuse suites: the embedded e2e and the two-replica Redis int.

export function reuseConfig(cached: FakeOpenAiUpstream, deduped: FakeOpenAiUpstream): string {
  return `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: cached}
spec:
  backends:
  - {name: cached-upstream, provider: vllm, baseUrl: "${cached.baseUrl}", model: up-model, modelNameOverride: cached-model}
  caching:
    enabled: true
    ttl: 3600s
    keyComponents: [prompt, model, temperature]
    maxSize: 10MB
---
apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: deduped}
spec:
  backends:
  - {name: dedup-upstream, provider: vllm, baseUrl: "${deduped.baseUrl}", model: up-model, modelNameOverride: dedup-model}
  deduplication:
    enabled: true
    window: 60s
    keyComponents: [prompt, model]
`;
}

export interface ChatOptions {
  model: string;
  prompt: string;
  stream?: boolean;
  temperature?: number;
  maxTokens?: number;
  user?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function chat(baseUrl: string, options: ChatOptions): Promise<Response> {
  return fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    ...(options.signal ? { signal: options.signal } : {}),
    headers: {
      'content-type': 'application/json',
      'x-user-id': options.user ?? 'reuse-user',
      ...options.headers,
    },
    body: JSON.stringify({
      model: options.model,
      messages: [{ role: 'user', content: options.prompt }],
      stream: options.stream ?? false,
      ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
      ...(options.maxTokens === undefined ? {} : { max_tokens: options.maxTokens }),
    }),
  });
}

/** The text of a chat answer, JSON or SSE; checks an SSE answer ends cleanly. */
export async function answerText(response: Response): Promise<string> {
  const body = await response.text();
  assert.equal(response.status, 200, body);
  if (!response.headers.get('content-type')?.includes('text/event-stream')) {
    const json = JSON.parse(body) as { choices: { message: { content: string } }[] };
    return json.choices[0].message.content;
  }
  const lines = body.split('\n').filter((line) => line.startsWith('data: '));
  assert.equal(lines.at(-1), 'data: [DONE]', 'the stream ends with [DONE]');
  let text = '';
  for (const line of lines.slice(0, -1)) {
    const chunk = JSON.parse(line.slice(6)) as {
      choices: { delta: { content?: string }; finish_reason: string | null }[];
      error?: unknown;
    };
    assert.equal(chunk.error, undefined, line);
    text += chunk.choices[0]?.delta.content ?? '';
  }
  return text;
}

export const FULL_ANSWER = 'Hello from the fake upstream.';
