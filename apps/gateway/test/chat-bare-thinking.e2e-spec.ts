// `thinking: {"type": "enabled"}` with no budget, as DeepSeek's thinking-mode guide has
// OpenAI SDK users send it (extra_body) and GLM and Kimi clients do, through the all-in-one
// gateway: DeepSeek gets its switch on, Claude 4.6 adaptive thinking shown, Claude 4.5 (a
// budget only) the default effort's budget; a 400 before, naming budget_tokens.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { FakeAnthropicUpstream, FakeOpenAiToolUpstream } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';

describe('chat thinking enabled without a budget', () => {
  const deepseek = new FakeOpenAiToolUpstream();
  const claude = new FakeAnthropicUpstream();
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await deepseek.start();
    await claude.start();
    const anthropic = (model: string, name: string) =>
      `  - {name: ${name}, provider: anthropic, baseUrl: "${claude.baseUrl}", model: ${model}, modelNameOverride: ${name}, auth: {apiKeyRef: {name: anthropic-key}}}`;
    gateway = await startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: deepseek}
spec:
  backends:
  - {name: deepseek, provider: deepseek, baseUrl: "${deepseek.baseUrl}", model: deepseek-chat, modelNameOverride: deepseek-chat}
---
kind: AIGatewayRoute
metadata: {name: claude-adaptive}
spec:
  backends:
${anthropic('claude-sonnet-4-6', 'claude-adaptive')}
---
kind: AIGatewayRoute
metadata: {name: claude-budget}
spec:
  backends:
${anthropic('claude-sonnet-4-5', 'claude-budget')}
`,
      { AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-test' },
    );
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await deepseek.stop();
    await claude.stop();
  });

  /** A chat call with the bare toggle, as DeepSeek's guide writes it. */
  const ask = (model: string) =>
    client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Which is larger, 9.11 or 9.8?' }],
      // @ts-expect-error DeepSeek's extension, sent as OpenAI SDK users send extra_body
      thinking: { type: 'enabled' },
    });

  it('reaches DeepSeek as its thinking switch on', async () => {
    await ask('deepseek-chat');
    assert.deepEqual(deepseek.calls.at(-1)?.body.thinking, { type: 'enabled' });
  });

  it('reaches Claude 4.6 as adaptive thinking, shown, and Claude 4.5 as a budget', async () => {
    claude.reset();
    await ask('claude-adaptive');
    assert.deepEqual(claude.calls.at(-1)?.body.thinking, {
      type: 'adaptive',
      display: 'summarized',
    });
    await ask('claude-budget');
    assert.deepEqual(claude.calls.at(-1)?.body.thinking, {
      type: 'enabled',
      budget_tokens: 4096,
    });
  });
});
