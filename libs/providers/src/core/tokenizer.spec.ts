import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { countTokens, estimatedUsage, estimatePromptTokens, OutputTally } from './tokenizer';

describe('tokenizer', () => {
  it('counts BPE tokens, not characters', () => {
    assert.equal(countTokens(''), 0);
    assert.equal(countTokens('hello world'), 2);
    // cl100k's count for this 44-character sentence (chars/4 would say 11).
    assert.equal(countTokens('The quick brown fox jumps over the lazy dog.'), 10);
  });

  it('treats special-token text in a prompt as plain text', () => {
    assert.ok(countTokens('a <|endoftext|> b') > 3);
  });

  it('scales from a prefix for very long text', () => {
    const sentence = 'The quick brown fox jumps over the lazy dog. ';
    const long = sentence.repeat(5_000); // 225,000 characters
    const tokens = countTokens(long);
    assert.ok(Math.abs(tokens - 10 * 5_000) / 50_000 < 0.01, `got ${tokens}`);
  });

  it('estimates a chat prompt and marks the usage as estimated', () => {
    const body = { messages: [{ role: 'user', content: 'hello world' }] };
    // 2 of text, 4 framing the message, 3 priming the reply
    assert.equal(estimatePromptTokens(body), 9);
    assert.deepEqual(estimatedUsage(body, 5), {
      inputTokens: 9,
      outputTokens: 5,
      cachedInputTokens: 0,
      source: 'estimated',
    });
  });

  it('bills the images and tool definitions of a prompt, not its text alone', () => {
    const text = { role: 'user', content: [{ type: 'text', text: 'What is this?' }] };
    const withImage = {
      role: 'user',
      content: [
        { type: 'text', text: 'What is this?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      ],
    };
    const plain = estimatePromptTokens({ messages: [text] });
    assert.equal(estimatePromptTokens({ messages: [withImage] }), plain + 1_600);
    const tools = [
      { type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } },
    ];
    assert.ok(estimatePromptTokens({ messages: [text], tools }) > plain + 5);
  });

  it('tallies streamed output pieces', () => {
    const tally = new OutputTally();
    for (const piece of ['The quick', ' brown fox', ' jumps over the lazy dog.']) tally.add(piece);
    assert.equal(tally.tokens, 10);
    assert.equal(new OutputTally().tokens, 0);
  });
});
