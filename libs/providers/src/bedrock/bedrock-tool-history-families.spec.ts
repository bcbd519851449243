import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayRequest, JsonObject, UpstreamTarget } from '@aigw/contracts/data-plane';
import {
  FakeBedrockUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { TEST_AWS_CREDENTIALS, useEnvAwsCredentials } from '../testing/env-aws-credentials';
import { BedrockAdapter } from './bedrock.adapter';

// Converse refuses toolUse/toolResult blocks without a toolConfig ("The toolConfig field
// must be defined when using toolUse and toolResult content blocks") and has no tool
// choice that rules calls out. A tool history sent without tools, or with tool_choice
// none, goes as text with no toolConfig, on every family Converse serves, not only Claude.

const TOOL_HISTORY = [
  { role: 'user', content: 'Weather in Paris?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      {
        id: 'tooluse_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
      },
    ],
  },
  { role: 'tool', tool_call_id: 'tooluse_1', content: '18C' },
  { role: 'user', content: 'Sum that up.' },
];

const WEATHER_TOOL = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
};

const MODELS = [
  'anthropic.claude-3-5-sonnet-20240620-v1:0',
  'us.amazon.nova-pro-v1:0',
  'meta.llama3-1-70b-instruct-v1:0',
  'mistral.mistral-large-2407-v1:0',
];

describe('Bedrock Converse: a tool history with no tools offered, by model family', () => {
  const upstream = new FakeBedrockUpstream(TEST_AWS_CREDENTIALS);
  useEnvAwsCredentials(TEST_AWS_CREDENTIALS);
  let adapter: BedrockAdapter;
  const target = (model: string): UpstreamTarget =>
    upstreamTarget({ provider: 'bedrock', model, baseUrl: upstream.baseUrl });
  const invoke = (request: GatewayRequest, model: string) =>
    adapter.invoke({ request, target: target(model), signal: new AbortController().signal });

  before(async () => {
    adapter = new BedrockAdapter();
    await upstream.start();
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  for (const model of MODELS) {
    for (const [what, extra] of [
      ['no tools', {}],
      ['tool_choice none beside tools', { tools: [WEATHER_TOOL], tool_choice: 'none' }],
    ] as const) {
      it(`${model}: answers ${what} in text, the history told as text`, async () => {
        const answer = await invoke(
          gatewayChatRequest({ messages: TOOL_HISTORY, ...extra }),
          model,
        );
        if (answer.kind !== 'json') return assert.fail(JSON.stringify(answer));
        const [choice] = answer.body.choices as { message: JsonObject }[];
        assert.equal(choice.message.tool_calls, undefined);
        const body = upstream.calls[0].body;
        assert.equal(body.toolConfig, undefined);
        const blocks = (body.messages as { content: JsonObject[] }[]).flatMap((m) => m.content);
        assert.ok(blocks.every((block) => !('toolUse' in block) && !('toolResult' in block)));
        const texts = blocks.map((block) => block.text).join('\n');
        assert.match(texts, /\[tool call tooluse_1: get_weather \{"city":"Paris"\}\]/);
        assert.match(texts, /\[tool result tooluse_1 \(get_weather\): 18C\]/);
      });
    }
  }
});
