import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { credentialUserKey, isCredentialHeader } from './credential-user-key';

const KEY = 'sk-live-0123456789abcdefghijklmnopqrstuv';

describe('credentialUserKey', () => {
  it('is key- and 16 hex digits of SHA-256, stable, and never contains the key', () => {
    const id = credentialUserKey(KEY);
    assert.match(id ?? '', /^key-[0-9a-f]{16}$/);
    assert.equal(id, credentialUserKey(KEY));
    // What the documented shell one-liner computes.
    assert.equal(id, `key-${createHash('sha256').update(KEY).digest('hex').slice(0, 16)}`);
    assert.ok(!id?.includes(KEY.slice(0, 8)));
    assert.ok(!id?.includes(KEY.slice(-8)));
  });

  it('differs per key', () => {
    assert.notEqual(credentialUserKey(KEY), credentialUserKey(`${KEY}x`));
    assert.notEqual(credentialUserKey('a'), credentialUserKey('b'));
  });

  it('maps one key to one id with or without a Bearer prefix (any case)', () => {
    const id = credentialUserKey(KEY);
    assert.equal(credentialUserKey(`Bearer ${KEY}`), id);
    assert.equal(credentialUserKey(`bearer  ${KEY} `), id);
    assert.equal(credentialUserKey(`BEARER\t${KEY}`), id);
  });

  it('maps a key repeated in one header (joined by commas) to the id of that key', () => {
    const id = credentialUserKey(KEY);
    assert.equal(credentialUserKey(`Bearer ${KEY}, Bearer ${KEY}`), id);
    assert.equal(credentialUserKey(`${KEY},${KEY}`), id);
    assert.equal(credentialUserKey(`${KEY}, other`), undefined, 'two keys name neither');
  });

  it('names no user for an empty credential', () => {
    assert.equal(credentialUserKey('Bearer '), undefined);
    assert.equal(credentialUserKey('  '), undefined);
  });

  it('knows the credential headers, whatever their case, and no others', () => {
    for (const header of [
      'authorization',
      'Proxy-Authorization',
      'X-API-Key',
      'api-key',
      'x-goog-api-key',
    ]) {
      assert.ok(isCredentialHeader(header), header);
    }
    for (const header of ['x-user-id', 'x-api-key-id', 'x-user-plan']) {
      assert.ok(!isCredentialHeader(header), header);
    }
  });
});
