import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PIECE_CHARS, tokenizerPieces } from './tokenizer-pieces';

const pieces = (text: string) => [...tokenizerPieces(text)];

describe('tokenizer pieces', () => {
  it('gives short text whole, and nothing for none', () => {
    assert.deepEqual(pieces('hello world'), ['hello world']);
    assert.deepEqual(pieces(''), []);
  });

  it('cuts a run with no break into bounded pieces that join back to it', () => {
    // A run the tokenizer would merge in time growing with its square.
    for (const run of ['日本語'.repeat(20_000), 'a'.repeat(60_001), ' '.repeat(10_000)]) {
      const all = pieces(run);
      assert.ok(all.length > 1);
      assert.ok(all.every((piece) => piece.length <= PIECE_CHARS && piece.length > 0));
      assert.equal(all.join(''), run);
    }
  });

  it('cuts prose before a word, so every word keeps its leading space', () => {
    const words = Array.from({ length: 2_000 }, (_, i) => `word${i % 97}`);
    const text = words.join(' ');
    const all = pieces(text);
    assert.equal(all.join(''), text);
    assert.ok(all.every((piece) => piece.length <= PIECE_CHARS));
    // Every piece but the first starts with the space before its first word.
    assert.ok(all.slice(1).every((piece) => / word\d/.test(piece.slice(0, 7))));
  });

  it('never cuts between the two halves of a character outside the BMP', () => {
    // An emoji or a rare CJK character split in two counts as two replacement characters.
    for (const run of ['a' + '𠀀'.repeat(3_000), 'b' + '👍🏽'.repeat(2_000)]) {
      const all = pieces(run);
      assert.equal(all.join(''), run);
      assert.ok(all.every((piece) => piece.length <= PIECE_CHARS));
      const split = all.filter((piece) => /^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/.test(piece));
      assert.deepEqual(split, []);
    }
  });
});
