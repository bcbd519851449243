// Prompt caching on a Bedrock backend through the gateway: the Anthropic SDK's
// cache_control marks (with their ttl) and an OpenAI client's marked content parts reach
// Converse as cachePoint blocks carrying that ttl, plain and streamed, at a fake Bedrock
// Runtime that verifies every signature.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import type { JsonObject } from '@aigw/contracts/data-plane';
import { FakeBedrockUpstream } from '@aigw/testing/fake-provider';
import type { AppProcess } from '@aigw/testing/processes';
import { startOnClaudeBedrockBackend } from './claude-on-bedrock';

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLECACHE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLECACHE',
};
const HOUR_POINT = { cachePoint: { type: 'default', ttl: '1h' } };

describe('all-in-one gateway: cache_control ttl on a Bedrock backend', () => {
  const upstream = new FakeBedrockUpstream(CREDENTIALS);
  let gateway: AppProcess;
  let client: Anthropic;

  before(async () => {
    await upstream.start();
    gateway = await startOnClaudeBedrockBackend(upstream, CREDENTIALS, 'bedrock-cache-ttl');
    client = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });
  beforeEach(() => upstream.reset());

  const sentBody = () => {
    const call = upstream.calls.at(-1);
    assert.ok(call, 'the backend was called');
    return call.body as {
      system: JsonObject[];
      messages: { content: JsonObject[] }[];
      toolConfig: { tools: JsonObject[] };
    };
  };

  it("sends a Messages client's ttl on each cache point, plain and streamed", async () => {
    const params = {
      model: 'claude',
      max_tokens: 100,
      system: [
        {
          type: 'text' as const,
          text: 'A long, stable instruction.',
          cache_control: { type: 'ephemeral' as const, ttl: '1h' as const },
        },
      ],
      tools: [
        {
          name: 'lookup',
          input_schema: { type: 'object' as const },
          cache_control: { type: 'ephemeral' as const, ttl: '1h' as const },
        },
      ],
      messages: [
        {
          role: 'user' as const,
          content: [
            {
              type: 'text' as const,
              text: 'A long document.',
              cache_control: { type: 'ephemeral' as const, ttl: '5m' as const },
            },
            { type: 'text' as const, text: 'What does it say?' },
          ],
        },
      ],
    };
    const message = await client.messages.create(params);
    assert.equal(message.model, 'claude');
    const stream = client.messages.stream(params);
    await stream.finalMessage();
    assert.equal(upstream.calls.length, 2);
    for (const call of upstream.calls) {
      assert.equal(await upstream.verifySignature(call), undefined);
    }
    const sent = sentBody();
    assert.ok(upstream.calls[1].path.endsWith('/converse-stream'));
    assert.deepEqual(sent.system, [{ text: 'A long, stable instruction.' }, HOUR_POINT]);
    assert.deepEqual(sent.toolConfig.tools[1], HOUR_POINT);
    assert.deepEqual(sent.messages[0].content, [
      { text: 'A long document.' },
      { cachePoint: { type: 'default', ttl: '5m' } },
      { text: 'What does it say?' },
    ]);
    assert.deepEqual(upstream.calls[0].body, upstream.calls[1].body);
  });

  it("sends an OpenAI client's marked content part with its ttl", async () => {
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude',
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'text',
                text: 'A long document.',
                cache_control: { type: 'ephemeral', ttl: '1h' },
              },
              { type: 'text', text: 'What does it say?' },
            ],
          },
        ],
      }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(sentBody().messages[0].content, [
      { text: 'A long document.' },
      HOUR_POINT,
      { text: 'What does it say?' },
    ]);
  });
});
