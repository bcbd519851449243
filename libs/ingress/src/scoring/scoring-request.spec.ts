import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import { checkedModerationBody, DEFAULT_MODERATION_MODEL } from './moderation-request';
import { checkedRerankBody } from './rerank-request';
import { scoringHoldCounts } from './scoring-hold';

function refusal(check: () => unknown, param: string): void {
  assert.throws(check, (error: unknown) => {
    assert.ok(error instanceof DataPlaneError);
    assert.equal(error.code, DataPlaneErrorCode.InvalidRequest);
    assert.equal(error.param, param);
    return true;
  });
}

describe('checkedModerationBody', () => {
  it('takes a string, strings, or text and image_url parts, and passes other fields', () => {
    const parts = [
      { type: 'text', text: 'hi' },
      { type: 'image_url', image_url: { url: 'https://x/y.png' } },
    ];
    for (const input of ['hi', ['a', 'b'], parts]) {
      const body = { model: 'guard', input, user: 'u' };
      assert.equal(checkedModerationBody(body), body);
    }
  });

  it('names omni-moderation-latest when the request names no model', () => {
    assert.deepEqual(checkedModerationBody({ input: 'hi' }), {
      input: 'hi',
      model: DEFAULT_MODERATION_MODEL,
    });
  });

  it('refuses a missing or malformed input and a stream, naming the field', () => {
    refusal(() => checkedModerationBody({ model: 'm' }), 'input');
    refusal(() => checkedModerationBody({ model: 'm', input: [] }), 'input');
    refusal(() => checkedModerationBody({ model: 'm', input: 7 }), 'input');
    refusal(
      () =>
        checkedModerationBody({ model: 'm', input: [{ type: 'text', text: 'a' }, { type: 'x' }] }),
      'input[1]',
    );
    refusal(
      () => checkedModerationBody({ model: 'm', input: [{ type: 'image_url', image_url: {} }] }),
      'input[0]',
    );
    refusal(
      () => checkedModerationBody({ model: 'm', input: ['a', { type: 'text', text: 'b' }] }),
      'input[0]',
    );
    refusal(() => checkedModerationBody({ model: 'm', input: 'x', stream: true }), 'stream');
  });
});

describe('checkedRerankBody', () => {
  const body = { model: 'r', query: 'q', documents: ['a', { text: 'b' }] };

  it('takes a query and documents as strings or {text}, with its options', () => {
    const full = { ...body, top_n: 1, return_documents: true, max_tokens_per_doc: 512 };
    assert.equal(checkedRerankBody(full), full);
    assert.equal(checkedRerankBody({ ...full, rank_fields: ['text'] }) !== undefined, true);
  });

  it('refuses each malformed field by name', () => {
    for (const [bad, param] of [
      [{ query: '' }, 'query'],
      [{ query: 3 }, 'query'],
      [{ documents: [] }, 'documents'],
      [{ documents: 'a' }, 'documents'],
      [{ documents: [{ title: 'a' }] }, 'documents'],
      [{ documents: Array(10_001).fill('d') }, 'documents'],
      [{ top_n: 0 }, 'top_n'],
      [{ top_n: 1.5 }, 'top_n'],
      [{ max_tokens_per_doc: '512' }, 'max_tokens_per_doc'],
      [{ return_documents: 'yes' }, 'return_documents'],
      [{ rank_fields: 'text' }, 'rank_fields'],
      [{ stream: true }, 'stream'],
    ] as const) {
      refusal(() => checkedRerankBody({ ...body, ...bad }), param);
    }
  });
});

describe('scoringHoldCounts', () => {
  const request = (operation: 'moderations' | 'rerank', body: JsonObject) =>
    ({ operation, body }) as GatewayRequest;

  it("holds a moderation's text and nothing generated", () => {
    const counts = scoringHoldCounts(request('moderations', { input: ['12345', '678'] }));
    assert.equal(counts.outputTokens, 0);
    assert.ok(counts.inputTokens >= 2, 'the text counted');
    assert.equal(counts.searches, undefined);
  });

  it("holds a rerank's query with each document, and its search units", () => {
    const counts = scoringHoldCounts(request('rerank', { query: 'qq', documents: ['aaaa', 'b'] }));
    // By UTF-8 bytes, an upper bound of tokens: (4 + 2) + (1 + 2).
    assert.equal(counts.inputTokens, 9);
    assert.equal(counts.outputTokens, 0);
    assert.equal(counts.searches, 1);
    const many = scoringHoldCounts(
      request('rerank', { query: 'q', documents: Array(101).fill('d') }),
    );
    assert.equal(many.searches, 2, 'one search unit per 100 documents');
    const long = scoringHoldCounts(request('rerank', { query: 'q', documents: ['x'.repeat(600)] }));
    assert.ok((long.searches ?? 0) >= 1);
  });
});
