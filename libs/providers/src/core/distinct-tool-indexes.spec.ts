import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@aigw/contracts/data-plane';
import { DistinctToolIndexes } from './distinct-tool-indexes';

/** The indexes the fragments of a stream's choices end with, in order. */
function renumbered(fragments: JsonObject[][], choiceIndex = 0): unknown[] {
  const indexes = new DistinctToolIndexes();
  return fragments.flatMap((calls) => {
    const choice: JsonObject = { index: choiceIndex, delta: { tool_calls: calls } };
    indexes.renumber(choice);
    return calls.map((call) => call.index);
  });
}

const call = (index: number, id?: string): JsonObject =>
  id === undefined ? { index, function: { arguments: '{}' } } : { index, id, function: {} };

describe('DistinctToolIndexes', () => {
  it('gives each call a backend streams at index 0 its own index (Ollama, LiteLLM)', () => {
    assert.deepEqual(
      renumbered([
        [call(0, 'call_a')],
        [call(0)],
        [call(0, 'call_b')],
        [call(0)],
        [call(0, 'call_c')],
      ]),
      [0, 0, 1, 1, 2],
    );
  });

  it('leaves calls a backend numbers apart as they came, continuations included', () => {
    assert.deepEqual(
      renumbered([[call(0, 'call_a'), call(1, 'call_b')], [call(1)], [call(0)], [call(1, '')]]),
      [0, 1, 1, 0, 1],
    );
  });

  it('keeps a call whole when the backend repeats its id on every fragment, interleaved', () => {
    assert.deepEqual(
      renumbered([
        [call(0, 'call_a')],
        [call(0, 'call_b')],
        [call(0, 'call_a')],
        [call(0, 'call_b')],
      ]),
      [0, 1, 0, 1],
    );
  });

  it('leaves calls numbered apart alone when the backend gives them one id (DeepSeek, GLM)', () => {
    // An id continues a call only at the backend's index it came at.
    assert.deepEqual(
      renumbered([[call(0, 'call_x'), call(1, 'call_x')], [call(1)], [call(0, 'call_x')]]),
      [0, 1, 1, 0],
    );
  });

  it('never gives a later index of the backend to a renumbered call twice', () => {
    // call_b was moved to 1; the backend's own index 1 then goes to the next free one.
    assert.deepEqual(
      renumbered([[call(0, 'call_a')], [call(0, 'call_b')], [call(1, 'call_c')], [call(1)]]),
      [0, 1, 2, 2],
    );
  });

  it('counts each choice apart, and passes a delta without calls untouched', () => {
    const indexes = new DistinctToolIndexes();
    const first: JsonObject = { index: 0, delta: { tool_calls: [call(0, 'a')] } };
    const other: JsonObject = { index: 1, delta: { tool_calls: [call(0, 'b')] } };
    const text: JsonObject = { index: 0, delta: { content: 'hi' } };
    indexes.renumber(first);
    indexes.renumber(other);
    indexes.renumber(text);
    assert.equal(((other.delta as JsonObject).tool_calls as JsonObject[])[0].index, 0);
    assert.deepEqual(text, { index: 0, delta: { content: 'hi' } });
  });
});
