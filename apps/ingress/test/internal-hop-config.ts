import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FAKE_BATCH_MODEL,
  type FakeBatchBackend,
  type FakeOpenAiUpstream,
  type FakeRealtimeUpstream,
} from '@aigw/testing/fake-provider';

/** The fake backends behind every kind of internal hop: HTTP, Realtime and the files relay. */
export interface InternalHopUpstreams {
  readonly chat: FakeOpenAiUpstream;
  readonly realtime: FakeRealtimeUpstream;
  readonly batches: FakeBatchBackend;
}

/**
 * Writes the route the internal-token suites run (a chat, a Realtime and a batch backend,
 * callers named by x-user-id) into `dir`; returns its path.
 */
export function writeInternalHopConfig(
  dir: string,
  name: string,
  { chat, realtime, batches }: InternalHopUpstreams,
): string {
  const path = join(dir, 'split.yaml');
  writeFileSync(
    path,
    `kind: AIGatewayRoute
metadata: {name: ${name}}
spec:
  backends:
  - {name: chat, provider: vllm, baseUrl: "${chat.baseUrl}", model: chat-model, modelNameOverride: gpt-4, auth: {apiKeyRef: {name: chat-key}}}
  - {name: openai-rt, provider: openai, baseUrl: "${realtime.baseUrl}/v1", auth: {apiKeyRef: {name: chat-key}}, model: gpt-realtime, modelNameOverride: voice}
  - {name: openai-batch, provider: openai, baseUrl: "${batches.baseUrl}", model: ${FAKE_BATCH_MODEL}, modelNameOverride: gpt-batch, auth: {apiKeyRef: {name: chat-key}}}
  userIdentification: {header: x-user-id}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
`,
  );
  return path;
}
