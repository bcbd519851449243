import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import {
  FakeOpenAiUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { OpenAiCompatibleAdapter } from './openai-compatible.adapter';

// DeepSeek's chat API defines response_format text and json_object only, and answers 400
// "This response_format type is unavailable now" to json_schema (api-docs.deepseek.com,
// create-chat-completion): what an openai SDK's parse(), LangChain's structured output, a
// Responses client's text.format and a Messages client's output_config.format all send.

const SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
  additionalProperties: false,
};

function chatRequest(body: JsonObject): GatewayRequest {
  return gatewayChatRequest(
    {},
    { requestedModel: 'deepseek-chat', body: { model: 'deepseek-chat', ...body } },
  );
}

describe('a json_schema response_format on DeepSeek', () => {
  const upstream = new FakeOpenAiUpstream();
  const adapter = new OpenAiCompatibleAdapter();
  let target: UpstreamTarget;

  before(async () => {
    await upstream.start();
    target = upstreamTarget(
      { provider: 'deepseek', model: 'deepseek-chat', baseUrl: upstream.baseUrl },
      { headerName: 'Authorization', headerPrefix: 'Bearer ', value: 'sk-deepseek-test' },
    );
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  const sent = async (body: JsonObject, provider = 'deepseek'): Promise<JsonObject> => {
    await adapter.invoke({
      request: chatRequest(body),
      target: { ...target, provider },
      signal: new AbortController().signal,
    });
    return upstream.calls[0].body;
  };

  const schemaFormat = {
    type: 'json_schema',
    json_schema: { name: 'place', description: 'Where it is.', schema: SCHEMA, strict: true },
  };

  it('goes as its JSON mode, with the schema told to the model in a system message first', async () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Where is the Louvre?' },
    ];
    const body = await sent({ messages, response_format: schemaFormat });
    assert.deepEqual(body.response_format, { type: 'json_object' });
    const [instruction, ...rest] = body.messages as JsonObject[];
    assert.deepEqual(rest, messages);
    assert.equal(instruction.role, 'system');
    const text = instruction.content as string;
    assert.match(text, /JSON/);
    assert.match(text, /Where it is\./);
    // The schema as the client wrote it, for the model to follow.
    assert.ok(text.includes(JSON.stringify(SCHEMA)), text);
  });

  it('leaves json_object and text formats, and other providers, as they came', async () => {
    const messages = [{ role: 'user', content: 'Answer in json.' }];
    for (const format of [{ type: 'json_object' }, { type: 'text' }]) {
      upstream.reset();
      const body = await sent({ messages, response_format: format });
      assert.deepEqual(body.response_format, format);
      assert.deepEqual(body.messages, messages);
    }
    upstream.reset();
    const together = await sent({ messages, response_format: schemaFormat }, 'together');
    assert.deepEqual(together.response_format, schemaFormat);
  });

  it('refuses a json_schema without its schema with the 400 naming response_format, no call', async () => {
    const bad = { type: 'json_schema', json_schema: { name: 'place' } };
    await assert.rejects(
      adapter.invoke({
        request: chatRequest({
          messages: [{ role: 'user', content: 'hi' }],
          response_format: bad,
        }),
        target,
        signal: new AbortController().signal,
      }),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'response_format',
    );
    assert.equal(upstream.calls.length, 0);
  });
});
