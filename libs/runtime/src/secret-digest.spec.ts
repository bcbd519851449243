import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchesSecretDigest, secretDigest } from './secret-digest';

const SECRET = 'analytics-token-0123456789abcdef';

describe('secretDigest and matchesSecretDigest', () => {
  it('accepts the secret and refuses others, whatever their length, without throwing', () => {
    const digest = secretDigest(SECRET);
    assert.equal(digest.length, 32);
    assert.equal(matchesSecretDigest(SECRET, digest), true);
    for (const other of [
      '',
      'x',
      SECRET.slice(0, -1),
      `${SECRET}x`,
      'y'.repeat(10_000),
      'é'.repeat(16),
    ]) {
      assert.equal(matchesSecretDigest(other, digest), false, other.slice(0, 20));
    }
  });

  it('keeps no trace of the secret in the digest', () => {
    assert.ok(!secretDigest(SECRET).toString('latin1').includes(SECRET.slice(0, 8)));
  });
});
