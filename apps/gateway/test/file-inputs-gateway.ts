// The all-in-one gateway the file-inputs specs (chat file parts, Responses input_file)
// share: one route with a model served by the backend holding files, one that may fail
// over to another backend, and one whose only backend (Anthropic) takes no files.
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { FilesAndChatBackend } from './files-and-chat-backend';

/** One backend's model: a file sent to it goes by its own id. */
export const SINGLE = 'gpt-docs';
/** Two backends (the one holding the file first): the file goes as content. */
export const FAILOVER = 'gpt-failover';
/** An Anthropic backend only: it takes no files. */
export const CLAUDE = 'claude-docs';

export const PDF = Buffer.from('%PDF-1.4 a small document about the quarterly numbers');

export class FileInputsGateway {
  readonly openai = new FilesAndChatBackend();
  /** The failover model's second backend. */
  readonly spare = new FakeOpenAiUpstream('spare');
  private gateway?: AppProcess;

  async start(): Promise<void> {
    await Promise.all([this.openai.start(), this.spare.start()]);
    this.gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: docs}
spec:
  backends:
  - {name: docs-openai, provider: openai, baseUrl: "${this.openai.baseUrl}", model: gpt-4.1, modelNameOverride: ${SINGLE}, auth: {apiKeyRef: {name: openai-key}}}
  - {name: failover-openai, priority: 0, provider: openai, baseUrl: "${this.openai.baseUrl}", model: gpt-4.1, modelNameOverride: ${FAILOVER}, auth: {apiKeyRef: {name: openai-key}}}
  - {name: failover-spare, priority: 1, provider: vllm, baseUrl: "${this.spare.baseUrl}", model: spare-model, modelNameOverride: ${FAILOVER}}
  - {name: claude, provider: anthropic, baseUrl: "http://127.0.0.1:9", model: claude-sonnet-4-5, modelNameOverride: ${CLAUDE}, auth: {apiKeyRef: {name: anthropic-key}}}
  userIdentification: {header: x-user-id}
`,
      {
        AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend',
        AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-backend',
      },
    );
  }

  async stop(): Promise<void> {
    await this.gateway?.stop();
    await Promise.all([this.openai.stop(), this.spare.stop()]);
  }

  /** An OpenAI client for the gateway as `user` (x-user-id). */
  client(user: string): OpenAI {
    return new OpenAI({
      baseURL: `${this.gateway!.baseUrl}/v1`,
      apiKey: `sk-client-${user}`,
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': user },
    });
  }
}

/** `client`'s upload of `data` for `model`, with `purpose`: its gateway id. */
export async function upload(
  client: OpenAI,
  model: string,
  purpose: string,
  name = 'report.pdf',
  data = PDF,
): Promise<string> {
  const file = await client.files.create(
    { file: await toFile(data, name), purpose: purpose as 'user_data' },
    { headers: { 'x-ai-gateway-model': model } },
  );
  assert.match(file.id, /^file-aigw_/);
  return file.id;
}

/** The error `call` failed with (it must fail). */
export async function failure(
  call: Promise<unknown>,
): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await call.then(
    () => assert.fail('the call should have been refused'),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof OpenAI.APIError, String(error));
  return error;
}
