import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ThinkingBlock } from '@aigw/contracts/data-plane';
import {
  decodeReasoning,
  ENCRYPTED_REASONING_PREFIX,
  encodeReasoning,
  thinkingBlocksOf,
} from './encrypted-reasoning';

// Shaped as Anthropic returns them: a signed thinking block and a redacted one.
const SIGNED: ThinkingBlock = {
  type: 'thinking',
  thinking: 'The user wants the weather in Zürich; call get_weather — "city" = Zürich.',
  signature: 'EqQBCkgIBxABGAIqQKz8a1y3sF0+9mQ/5c2d7/eHx0p4WmH1yJb2kLqS3tV9uR==',
};
const REDACTED: ThinkingBlock = {
  type: 'redacted_thinking',
  data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2Y==',
};

/** What a client could send in `encrypted_content`: our prefix before any JSON. */
function ours(json: string): string {
  return ENCRYPTED_REASONING_PREFIX + Buffer.from(json, 'utf8').toString('base64url');
}

describe('encrypted_content: thinking blocks a stateless client carries back', () => {
  it('round-trips signed and redacted blocks, text and signatures byte for byte', () => {
    const encoded = encodeReasoning([SIGNED, REDACTED]);
    assert.ok(encoded.startsWith(ENCRYPTED_REASONING_PREFIX), encoded);
    // One opaque token: base64url after the prefix, nothing a client would need to escape.
    assert.match(encoded.slice(ENCRYPTED_REASONING_PREFIX.length), /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeReasoning(encoded), [SIGNED, REDACTED]);
  });

  it('refuses what it did not write: another prefix, broken base64url, not a list of blocks', () => {
    const payload = encodeReasoning([SIGNED]).slice(ENCRYPTED_REASONING_PREFIX.length);
    const refused: [what: string, value: string][] = [
      ['OpenAI’s own encrypted reasoning', 'gAAAAABoZ3xkYWJjZGVmZ2hpamtsbW5vcA=='],
      ['the payload without the prefix', payload],
      ['a later version', `aigw2.${payload}`],
      ['nothing after the prefix', ENCRYPTED_REASONING_PREFIX],
      ['padding', `${ENCRYPTED_REASONING_PREFIX}${payload}==`],
      ['JSON cut short', `${ENCRYPTED_REASONING_PREFIX}${payload.slice(0, 12)}`],
      ['an object, not a list', ours(JSON.stringify(SIGNED))],
      ['an empty list', ours('[]')],
      ['a block without its text', ours('[{"type":"thinking","signature":"s"}]')],
      ['a redacted block without data', ours('[{"type":"redacted_thinking"}]')],
      ['an unknown block', ours('[{"type":"text","text":"hi"}]')],
      ['one bad block among good ones', ours(JSON.stringify([SIGNED, { type: 'thinking' }]))],
    ];
    for (const [what, value] of refused) {
      assert.equal(decodeReasoning(value), undefined, what);
    }
  });

  it('reads base64url strictly, where Node would read past a stray character', () => {
    // Blocks whose base64 has '+' and '/' and a length of 4n, so a lenient read succeeds.
    const json = JSON.stringify([{ type: 'thinking', thinking: '~~~???>>>', signature: 's' }]);
    const standard = Buffer.from(json, 'utf8').toString('base64');
    const urlSafe = Buffer.from(json, 'utf8').toString('base64url');
    assert.match(standard, /[+/]/);
    assert.equal(urlSafe.length % 4, 0);
    for (const lenient of [standard, `${urlSafe}A`]) {
      assert.equal(Buffer.from(lenient, 'base64url').toString('utf8'), json, 'Node reads it');
      assert.equal(decodeReasoning(ENCRYPTED_REASONING_PREFIX + lenient), undefined, lenient);
    }
    assert.deepEqual(decodeReasoning(ENCRYPTED_REASONING_PREFIX + urlSafe), JSON.parse(json));
  });

  it('reads the well-formed entries of a thinking_blocks field, with their known fields alone', () => {
    assert.deepEqual(
      thinkingBlocksOf([
        { ...SIGNED, cache_control: { type: 'ephemeral' } },
        { type: 'x' },
        REDACTED,
      ]),
      [SIGNED, REDACTED],
    );
    assert.deepEqual(thinkingBlocksOf(undefined), []);
    assert.deepEqual(thinkingBlocksOf('blocks'), []);
  });
});
