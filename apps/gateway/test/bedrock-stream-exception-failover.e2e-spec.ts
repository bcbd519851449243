// A ConverseStream that Bedrock opens with messageStart and then fails with an exception
// (a modelStreamErrorException, a throttlingException) has sent the client nothing it could
// use: the gateway fails over to the next backend, and the client sees one answer. Once
// text went out, the client gets an explicit error instead. Both Bedrock Runtimes are fakes
// that speak the binary event stream and verify every signature.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { until } from '@aigw/testing';
import { FakeBedrockUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLEFAILOVER',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEFAILOVER',
};
const MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

describe('all-in-one gateway: a Bedrock stream failing right after messageStart', () => {
  const first = new FakeBedrockUpstream(CREDENTIALS);
  const second = new FakeBedrockUpstream(CREDENTIALS);
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await Promise.all([first.start(), second.start()]);
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: bedrock-stream-failover}
spec:
  backends:
  - {name: bedrock-east, priority: 0, provider: bedrock, baseUrl: "${first.baseUrl}", model: ${MODEL}, modelNameOverride: claude}
  - {name: bedrock-west, priority: 1, provider: bedrock, baseUrl: "${second.baseUrl}", model: ${MODEL}, modelNameOverride: claude}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
`,
      {
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        AWS_SESSION_TOKEN: '',
        AWS_REGION: 'us-east-1',
      },
    );
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([first.stop(), second.stop()]);
  });
  beforeEach(() => {
    first.reset();
    second.reset();
    first.streamException = 'modelStreamErrorException';
  });

  /** The input tokens counted for `claude` so far, over every user. */
  const inputTokens = async (): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    const counted = /^ai_gateway_tokens_total\{[^}]*model="claude",type="input"\} (\d+)/gm;
    return [...text.matchAll(counted)].reduce((sum, match) => sum + Number(match[1]), 0);
  };

  const streamedChat = () =>
    client.chat.completions.create({
      model: 'claude',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });

  it('fails over to the next backend, the client seeing one answer, billed once', async () => {
    first.streamException = 'throttlingException';
    first.next({ kind: 'stream-error', afterChunks: 1 }); // messageStart, then the exception
    const before = await inputTokens();
    let text = '';
    let roles = 0;
    for await (const chunk of await streamedChat()) {
      const delta = chunk.choices[0]?.delta;
      if (delta?.role) roles += 1;
      text += delta?.content ?? '';
    }
    assert.equal(text, 'Hello from Bedrock.');
    assert.equal(roles, 1);
    assert.equal(first.calls.length, 1);
    assert.equal(second.calls.length, 1);
    // Only the answer's prompt is counted (15 tokens, 40 read from the cache, 10 written):
    // the throttled call, billed nothing by Bedrock, adds no estimate of its own.
    await until('the answer is counted', async () => (await inputTokens()) - before >= 65);
    assert.equal((await inputTokens()) - before, 65);
  });

  it('ends the stream with an error once text went out, calling no other backend', async () => {
    first.next({ kind: 'stream-error', afterChunks: 2 }); // messageStart, "Hello", exception
    let text = '';
    const failure = await (async () => {
      for await (const chunk of await streamedChat())
        text += chunk.choices[0]?.delta?.content ?? '';
    })().then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.equal(text, 'Hello');
    assert.ok(
      failure instanceof OpenAI.APIError,
      `expected an error event, got ${String(failure)}`,
    );
    assert.equal(second.calls.length, 0);
  });
});
