import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bearerToken } from './bearer-token';

describe('bearerToken', () => {
  it('takes the token of a Bearer header, scheme case-insensitive', () => {
    assert.deepEqual(bearerToken('Bearer aa.bb.cc'), { kind: 'token', value: 'aa.bb.cc' });
    assert.deepEqual(bearerToken('bearer   aa.bb.cc '), { kind: 'token', value: 'aa.bb.cc' });
    assert.deepEqual(bearerToken(['Bearer aa.bb.', 'Bearer x.y.z']), {
      kind: 'token',
      value: 'aa.bb.',
    });
  });

  it('calls absent or other schemes missing, and odd shapes malformed', () => {
    assert.equal(bearerToken(undefined).kind, 'missing');
    assert.equal(bearerToken('').kind, 'missing');
    assert.equal(bearerToken('Basic dXNlcjpwYXNz').kind, 'missing');
    assert.equal(bearerToken('Bearer ').kind, 'missing');
    assert.equal(bearerToken('Bearer a.b').kind, 'malformed');
    assert.equal(bearerToken('Bearer a.b.c.d.e').kind, 'malformed');
    assert.equal(bearerToken('Bearer a b.c.d').kind, 'malformed');
    assert.equal(bearerToken(`Bearer ${'a'.repeat(9000)}.b.c`).kind, 'malformed');
  });
});
