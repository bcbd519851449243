import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { conversationParam } from '../domain/responses-request';
import { conversationItems, conversationMetadata } from './conversation';

const refusal = (param: string, text: RegExp) => (error: unknown) =>
  error instanceof DataPlaneError &&
  error.httpStatus === 400 &&
  error.param === param &&
  text.test(error.message);

describe('Conversations API input', () => {
  it('takes a conversation as an id or {id}', () => {
    assert.equal(conversationParam('conv_1'), 'conv_1');
    assert.equal(conversationParam({ id: 'conv_2' }), 'conv_2');
    assert.equal(conversationParam(null), undefined);
    assert.throws(() => conversationParam(42), refusal('conversation', /Invalid type/));
    assert.throws(
      () => conversationParam({ id: '' }),
      refusal('conversation', /must not be empty/),
    );
  });

  it('checks metadata as OpenAI documents it', () => {
    assert.deepEqual(conversationMetadata(undefined), {});
    assert.deepEqual(conversationMetadata({ a: 'b' }), { a: 'b' });
    assert.throws(() => conversationMetadata('x'), refusal('metadata', /expected an object/));
    const seventeen = Object.fromEntries([...Array(17).keys()].map((i) => [`k${i}`, 'v']));
    assert.throws(() => conversationMetadata(seventeen), refusal('metadata', /at most 16/));
    assert.throws(() => conversationMetadata({ ['k'.repeat(65)]: 'v' }), refusal('metadata', /64/));
    assert.throws(() => conversationMetadata({ a: 'v'.repeat(513) }), refusal('metadata.a', /512/));
    assert.throws(() => conversationMetadata({ a: 1 }), refusal('metadata.a', /strings/));
  });

  it('checks items as /v1/responses input, at most 20, naming the item at fault', () => {
    assert.deepEqual(conversationItems(undefined, false), []);
    assert.throws(() => conversationItems(undefined, true), refusal('items', /Missing required/));
    assert.throws(() => conversationItems([], true), refusal('items', /at least one/));
    const many = Array.from({ length: 21 }, () => ({ role: 'user', content: 'x' }));
    assert.throws(() => conversationItems(many, false), refusal('items', /at most 20/));
    assert.throws(
      () =>
        conversationItems(
          [
            { role: 'user', content: 'ok' },
            { role: 'robot', content: 'x' },
          ],
          true,
        ),
      refusal('items[1].role', /'user', 'system'/),
    );
    assert.throws(
      () => conversationItems([{ type: 'item_reference', id: 'x' }], true),
      refusal('items[0].type', /Item references/),
    );
    const [item] = conversationItems([{ role: 'user', content: 'hi' }], true);
    assert.equal(item.type, 'message');
    assert.equal(item.status, 'completed');
    assert.deepEqual(item.content, [{ type: 'input_text', text: 'hi' }]);
  });
});
