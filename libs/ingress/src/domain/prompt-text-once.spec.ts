import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimatePromptTokensUpperBound, promptText } from '@aigw/contracts/data-plane';
import { promptTextOnce } from './prompt-text-once';

/** A chat body that counts how often its messages are read (once per promptText). */
function countedBody(content: string): { body: Record<string, unknown>; reads: () => number } {
  let reads = 0;
  const messages = [{ role: 'user', content }];
  const body: Record<string, unknown> = {};
  Object.defineProperty(body, 'messages', {
    enumerable: true,
    get: () => {
      reads++;
      return messages;
    },
  });
  return { body, reads: () => reads };
}

test('the same body asked twice in a row is walked once, with the same text', () => {
  const first = countedBody('hello there');
  assert.equal(promptTextOnce(first.body), 'hello there');
  assert.equal(promptTextOnce(first.body), 'hello there');
  assert.equal(first.reads(), 1);
});

test('another body gets its own text, and a body asked again after another is rebuilt', () => {
  const a = countedBody('first prompt');
  const b = countedBody('second prompt');
  assert.equal(promptTextOnce(a.body), 'first prompt');
  assert.equal(promptTextOnce(b.body), 'second prompt');
  assert.equal(promptTextOnce(a.body), promptText({ messages: [{ content: 'first prompt' }] }));
  assert.equal(a.reads(), 2);
  assert.equal(b.reads(), 1);
});

test("the estimate counts the text it is given as the body's, framing and tools from the body", () => {
  const body = { messages: [{ role: 'user', content: 'hi' }] };
  assert.equal(estimatePromptTokensUpperBound(body, 'hi'), estimatePromptTokensUpperBound(body));
  assert.equal(
    estimatePromptTokensUpperBound(body, 'x'.repeat(100)),
    estimatePromptTokensUpperBound({ messages: [{ role: 'user', content: 'x'.repeat(100) }] }),
  );
});
