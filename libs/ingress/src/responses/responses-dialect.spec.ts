import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayEndpoint } from '@aigw/contracts';
import { DataPlaneError, type GatewayRequest, type JsonAnswer } from '@aigw/contracts/data-plane';
import { endpointAt, methodsAllowedAt } from '../http/public-paths';
import { RESPONSES_DIALECT } from './responses-dialect';

describe('Responses API dialect', () => {
  it('is served at /v1/responses and /responses, POST only, and counted as its own endpoint', () => {
    assert.equal(endpointAt('/v1/responses'), GatewayEndpoint.Responses);
    assert.equal(endpointAt('/responses?x=1'), GatewayEndpoint.Responses);
    assert.deepEqual(methodsAllowedAt('/v1/responses'), ['POST']);
    assert.equal(endpointAt('/v1/responses/resp_1'), undefined);
  });

  it("names the Conversations API's methods, so a wrong one is a 405 with Allow", () => {
    assert.deepEqual(methodsAllowedAt('/v1/conversations'), ['POST']);
    assert.deepEqual(methodsAllowedAt('/conversations/conv_1'), ['GET', 'POST', 'DELETE']);
    assert.deepEqual(methodsAllowedAt('/v1/conversations/conv_1/items?limit=2'), ['GET', 'POST']);
    assert.deepEqual(methodsAllowedAt('/v1/conversations/conv_1/items/msg_1'), ['GET', 'DELETE']);
    assert.equal(methodsAllowedAt('/v1/conversations/conv_1/other'), undefined);
    assert.equal(methodsAllowedAt('/v1/conversationsx'), undefined);
  });

  it('hands the router a chat body and refuses what it cannot translate', () => {
    const canonical = RESPONSES_DIALECT.canonicalBody!;
    assert.deepEqual(canonical({ model: 'm', input: 'hi' }), {
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.throws(
      () => canonical({ model: 'm', input: 'hi', previous_response_id: 'resp_1' }),
      (error: unknown) => error instanceof DataPlaneError && error.param === 'previous_response_id',
    );
  });

  it("answers a chat completion as a Response repeating the client's own settings", () => {
    const answer = {
      kind: 'json',
      status: 200,
      body: {
        id: 'chatcmpl-1',
        choices: [
          { index: 0, message: { role: 'assistant', content: 'Hi.' }, finish_reason: 'stop' },
        ],
      },
      usage: { inputTokens: 3, outputTokens: 2, cachedInputTokens: 0, source: 'reported' },
      servedBy: { backend: 'b', provider: 'openai', model: 'upstream' },
    } as JsonAnswer;
    const request = { requestId: 'r1', requestedModel: 'alias' } as GatewayRequest;
    const tools = [{ type: 'function', name: 'f', parameters: { type: 'object' } }];
    const body = RESPONSES_DIALECT.answerBody(answer, request, {
      model: 'alias',
      input: 'hi',
      tools,
      temperature: 0.2,
    }) as Record<string, unknown>;
    assert.equal(body.object, 'response');
    assert.match(body.id as string, /^resp_[0-9a-f]{48}$/, 'random, not the request id');
    assert.equal(body.model, 'alias');
    assert.deepEqual(body.tools, tools);
    assert.equal(body.temperature, 0.2);
  });
});
