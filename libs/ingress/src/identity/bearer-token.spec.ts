import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { presentedToken } from './bearer-token';

describe('presentedToken: Authorization alone', () => {
  const bearerToken = (authorization: string | string[] | undefined) =>
    presentedToken({ authorization });

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

describe('presentedToken', () => {
  const TOKEN = 'aa.bb.cc';

  it('reads Authorization: Bearer, x-api-key or x-goog-api-key', () => {
    const token = { kind: 'token', value: TOKEN };
    assert.deepEqual(presentedToken({ authorization: `Bearer ${TOKEN}` }), token);
    assert.deepEqual(presentedToken({ 'x-api-key': TOKEN }), token);
    assert.deepEqual(presentedToken({ 'x-goog-api-key': ` ${TOKEN} ` }), token);
    assert.deepEqual(
      presentedToken({
        authorization: `bearer ${TOKEN}`,
        'x-api-key': TOKEN,
        'x-goog-api-key': TOKEN,
      }),
      token,
      'the same token in several headers',
    );
  });

  it('says missing or malformed as for Authorization; another scheme carries no token', () => {
    assert.equal(presentedToken({}).kind, 'missing');
    assert.equal(presentedToken({ 'x-api-key': ' ' }).kind, 'missing');
    assert.equal(presentedToken({ 'x-api-key': 'sk-ant-api03-key' }).kind, 'malformed');
    assert.deepEqual(presentedToken({ authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': TOKEN }), {
      kind: 'token',
      value: TOKEN,
    });
  });

  it("reads api-key (Azure OpenAI's SDKs) as it reads x-api-key", () => {
    const token = { kind: 'token', value: TOKEN };
    assert.deepEqual(presentedToken({ 'api-key': TOKEN }), token);
    assert.deepEqual(presentedToken({ 'api-key': [` ${TOKEN}`, 'x.y.z'] }), token);
    assert.deepEqual(
      presentedToken({ authorization: `Bearer ${TOKEN}`, 'api-key': TOKEN, 'x-api-key': TOKEN }),
      token,
      'the same token in several headers',
    );
    assert.equal(presentedToken({ 'api-key': ' ' }).kind, 'missing');
    assert.equal(
      presentedToken({ 'api-key': '0123456789abcdef0123456789abcdef' }).kind,
      'malformed',
    );
    assert.deepEqual(presentedToken({ authorization: `Bearer ${TOKEN}`, 'api-key': 'x.y.z' }), {
      kind: 'conflicting',
      headers: ['authorization', 'api-key'],
    });
    assert.deepEqual(presentedToken({ 'x-api-key': TOKEN, 'api-key': 'azure-static-key' }), {
      kind: 'conflicting',
      headers: ['x-api-key', 'api-key'],
    });
  });

  it('calls two different credentials conflicting, naming only the headers', () => {
    assert.deepEqual(presentedToken({ authorization: `Bearer ${TOKEN}`, 'x-api-key': 'x.y.z' }), {
      kind: 'conflicting',
      headers: ['authorization', 'x-api-key'],
    });
    assert.deepEqual(presentedToken({ 'x-api-key': TOKEN, 'x-goog-api-key': 'sk-other' }), {
      kind: 'conflicting',
      headers: ['x-api-key', 'x-goog-api-key'],
    });
  });

  it('calls a header sent twice with two credentials conflicting (joined by commas), one credential twice one', () => {
    assert.deepEqual(presentedToken({ authorization: `Bearer ${TOKEN}, Bearer x.y.z` }), {
      kind: 'conflicting',
      headers: ['authorization'],
    });
    assert.deepEqual(presentedToken({ 'x-api-key': `${TOKEN}, x.y.z` }), {
      kind: 'conflicting',
      headers: ['x-api-key'],
    });
    assert.deepEqual(presentedToken({ authorization: `Bearer ${TOKEN}, Bearer ${TOKEN}` }), {
      kind: 'token',
      value: TOKEN,
    });
  });
});
