import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import type { Screen } from './held-api';
import { readMessageBatchRequests, screenMessageBatch, sentTo } from './message-batch-requests';

const params = (model = 'claude-batch', content = 'hello', more: JsonObject = {}) => ({
  model,
  max_tokens: 30,
  messages: [{ role: 'user', content }],
  ...more,
});

/** A screen that records what it read and masks nothing. */
const reading = (seen: JsonObject[]): Screen => {
  return (_model, operation, body) => {
    assert.equal(operation, 'chat');
    seen.push(body);
    return body;
  };
};

describe('a message batch body', () => {
  it('is read with its one model and its requests as sent', () => {
    const requests = [
      { custom_id: 'a-1', params: params() },
      { custom_id: 'b_2', params: params() },
    ];
    const read = readMessageBatchRequests({ requests });
    assert.equal(read.model, 'claude-batch');
    assert.deepEqual(read.requests, requests);
  });

  it('is refused as Anthropic refuses it, naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [[], /JSON object/],
      [{}, /^requests: Field required/],
      [{ requests: [] }, /^requests: Field required/],
      [{ requests: ['x'] }, /^requests\.0: Input should be an object/],
      [{ requests: [{ params: params() }] }, /^requests\.0\.custom_id/],
      [{ requests: [{ custom_id: 'a b', params: params() }] }, /^requests\.0\.custom_id/],
      [{ requests: [{ custom_id: 'x'.repeat(65), params: params() }] }, /^requests\.0\.custom_id/],
      [{ requests: [{ custom_id: 'a' }] }, /^requests\.0\.params: Field required/],
      [
        { requests: [{ custom_id: 'a', params: { max_tokens: 1 } }] },
        /^requests\.0\.params\.model/,
      ],
      [
        {
          requests: [
            { custom_id: 'a', params: params() },
            { custom_id: 'a', params: params() },
          ],
        },
        /^requests\.1\.custom_id: 'a' is used by another request/,
      ],
      [
        {
          requests: [
            { custom_id: 'a', params: params() },
            { custom_id: 'b', params: params('other') },
          ],
        },
        /^requests\.1\.params\.model: every request of a batch must name the same model/,
      ],
    ];
    for (const [body, message] of cases) {
      assert.throws(
        () => readMessageBatchRequests(body),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.code === DataPlaneErrorCode.InvalidRequest &&
          message.test(error.message),
        JSON.stringify(body).slice(0, 80),
      );
    }
  });
});

describe("a message batch's requests under the route's rules", () => {
  it('reads each as a Messages call (its system prompt too) and sums its worst case', () => {
    const seen: JsonObject[] = [];
    const requests = [
      { custom_id: 'a', params: params('claude-batch', 'hi', { system: 'be brief' }) },
      { custom_id: 'b', params: params('claude-batch', 'there', { max_tokens: 70 }) },
    ];
    const { estimate } = screenMessageBatch('claude-batch', requests, {}, reading(seen), 4096);
    assert.equal(seen.length, 2);
    assert.match(JSON.stringify(seen[0].messages), /be brief/);
    assert.match(JSON.stringify(seen[1].messages), /there/);
    assert.equal(estimate.requests, 2);
    assert.equal(estimate.outputTokens, 30 + 70);
    assert.ok(estimate.inputTokens > 0);
  });

  it('refuses what /v1/messages refuses, and what a rule refuses', () => {
    const noMaxTokens = { custom_id: 'a', params: { model: 'm', messages: [] } };
    assert.throws(
      () => screenMessageBatch('m', [noMaxTokens], {}, reading([]), 4096),
      /max_tokens/,
    );
    const blocking: Screen = () => {
      throw new DataPlaneError(DataPlaneErrorCode.PromptBlocked, 'blocked');
    };
    assert.throws(
      () => screenMessageBatch('m', [{ custom_id: 'a', params: params('m') }], {}, blocking, 1),
      (error: unknown) =>
        error instanceof DataPlaneError && error.code === DataPlaneErrorCode.PromptBlocked,
    );
  });

  it('refuses a request whose prompt a route would mask: it is sent as written', () => {
    const masking: Screen = (_model, _operation, body, tally) => {
      tally.set('email', 1);
      return body;
    };
    const requests = [
      { custom_id: 'a', params: params('m') },
      { custom_id: 'b', params: params('m', 'mail me at a@b.c') },
    ];
    assert.throws(
      () => screenMessageBatch('m', requests, {}, masking, 1),
      /: requests\.0\.params: this route masks parts of prompts \(email\)/,
    );
  });

  it("sends each with the backend's model name, its custom_id and other params kept", () => {
    const requests = [{ custom_id: 'a', params: params('claude-batch', 'hi', { top_k: 3 }) }];
    assert.deepEqual(sentTo(requests, 'claude-upstream'), [
      { custom_id: 'a', params: { ...params('claude-upstream', 'hi'), top_k: 3 } },
    ]);
    assert.equal((requests[0].params as JsonObject).model, 'claude-batch', 'not changed in place');
  });
});
