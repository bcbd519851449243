import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@aigw/contracts/data-plane';
import { continuedPrefix, EchoedPrefixStripper, stripEchoedPrefix } from './echoed-prefix';

function answer(content: unknown): JsonObject {
  return {
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  };
}

function contentOf(json: JsonObject): unknown {
  return ((json.choices as JsonObject[])[0].message as JsonObject).content;
}

/** The text a client reads from `pieces` streamed as one choice's deltas, then a finish. */
function streamed(prefix: string, pieces: readonly string[], index = 0): string[] {
  const stripper = new EchoedPrefixStripper(prefix);
  const choices: JsonObject[] = [
    { index, delta: { role: 'assistant', content: '' }, finish_reason: null },
    ...pieces.map((content) => ({ index, delta: { content }, finish_reason: null })),
    { index, delta: {}, finish_reason: 'stop' },
  ];
  return choices.map((choice) => {
    stripper.strip(choice);
    const delta = choice.delta as JsonObject;
    return typeof delta.content === 'string' ? delta.content : '';
  });
}

describe('continuedPrefix', () => {
  it('is the text of a last assistant message marked prefix: true', () => {
    const user = { role: 'user', content: 'A haiku?' };
    assert.equal(
      continuedPrefix({
        messages: [user, { role: 'assistant', content: 'White hush', prefix: true }],
      }),
      'White hush',
    );
    const parts = [
      { type: 'text', text: 'White' },
      { type: 'text', text: ' hush' },
    ];
    assert.equal(
      continuedPrefix({ messages: [user, { role: 'assistant', content: parts, prefix: true }] }),
      'White hush',
    );
  });

  it('is undefined without a prefix to continue', () => {
    const user = { role: 'user', content: 'A haiku?' };
    for (const messages of [
      [user],
      [user, { role: 'assistant', content: 'White hush' }],
      [user, { role: 'assistant', content: 'White hush', prefix: false }],
      [user, { role: 'assistant', content: '', prefix: true }],
      [user, { role: 'assistant', content: [{ type: 'image_url' }], prefix: true }],
    ]) {
      assert.equal(continuedPrefix({ messages }), undefined, JSON.stringify(messages));
    }
    assert.equal(continuedPrefix({}), undefined);
  });
});

describe('stripEchoedPrefix', () => {
  it('takes the prefix off an answer that starts with it', () => {
    const json = answer('White hush falls on pines');
    stripEchoedPrefix(json, 'White hush');
    assert.equal(contentOf(json), ' falls on pines');
  });

  it('keeps an answer that does not start with the prefix whole', () => {
    for (const text of ['Snow falls', 'White hus', 'white hush falls', ' White hush']) {
      const json = answer(text);
      stripEchoedPrefix(json, 'White hush');
      assert.equal(contentOf(json), text);
    }
  });

  it('takes it off the first text part of a list of parts only', () => {
    const json = answer([
      { type: 'thinking', thinking: [{ type: 'text', text: 'White hush...' }] },
      { type: 'text', text: 'White hush falls' },
    ]);
    stripEchoedPrefix(json, 'White hush');
    assert.deepEqual(contentOf(json), [
      { type: 'thinking', thinking: [{ type: 'text', text: 'White hush...' }] },
      { type: 'text', text: ' falls' },
    ]);
  });

  it('leaves a choice without text (tool calls) as it is', () => {
    const json = answer(null);
    stripEchoedPrefix(json, 'White hush');
    assert.equal(contentOf(json), null);
  });
});

describe('EchoedPrefixStripper', () => {
  it('takes off a prefix split across deltas, relaying what follows it at once', () => {
    const out = streamed('White hush', ['Whi', 'te h', 'ush fa', 'lls', ' on pines']);
    assert.deepEqual(out, ['', '', '', ' fa', 'lls', ' on pines', '']);
  });

  it('takes off a prefix that ends exactly at a delta', () => {
    const out = streamed('White hush', ['White', ' hush', ' falls']);
    assert.deepEqual(out, ['', '', '', ' falls', '']);
  });

  it('relays an answer that does not start with the prefix whole, held text included', () => {
    assert.deepEqual(streamed('White hush', ['Whi', 'te', ' snow']), [
      '',
      '',
      '',
      'White snow',
      '',
    ]);
    assert.deepEqual(streamed('White hush', ['Snow', ' falls']), ['', 'Snow', ' falls', '']);
    // Later deltas pass untouched, even one that happens to start with the prefix.
    assert.deepEqual(streamed('White hush', ['Snow ', 'White hush']), [
      '',
      'Snow ',
      'White hush',
      '',
    ]);
  });

  it('gives back held text when the answer ends inside the prefix', () => {
    assert.deepEqual(streamed('White hush', ['White', ' hu']), ['', '', '', 'White hu']);
    const stripper = new EchoedPrefixStripper('White hush');
    const last: JsonObject = { index: 0, delta: { content: 'White' }, finish_reason: 'length' };
    stripper.strip(last);
    assert.deepEqual(last.delta, { content: 'White' });
  });

  it('keeps each choice apart', () => {
    const stripper = new EchoedPrefixStripper('Yes');
    const a: JsonObject = { index: 0, delta: { content: 'Yes, sure' }, finish_reason: null };
    const b: JsonObject = { index: 1, delta: { content: 'No' }, finish_reason: null };
    const c: JsonObject = { index: 1, delta: { content: 'Yes' }, finish_reason: null };
    for (const choice of [a, b, c]) stripper.strip(choice);
    assert.deepEqual(
      [a.delta, b.delta, c.delta],
      [{ content: ', sure' }, { content: 'No' }, { content: 'Yes' }],
    );
  });
});
