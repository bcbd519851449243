// Every header the identity step reads a token from is a client credential: it never
// travels to a provider, in whatever case the client spelled it, whatever stripHeaders says.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { presentedToken } from '../identity/bearer-token';
import { forwardableHeaders } from './header-policy';

const TOKEN = 'aa.bb.cc';
const TOKEN_HEADERS = ['authorization', 'x-api-key', 'api-key', 'x-goog-api-key'];

describe('the headers a token is read from are never forwarded', () => {
  it('reads a token from each of them', () => {
    for (const header of TOKEN_HEADERS) {
      const value = header === 'authorization' ? `Bearer ${TOKEN}` : TOKEN;
      assert.deepEqual(
        presentedToken({ [header]: value }),
        { kind: 'token', value: TOKEN },
        header,
      );
    }
  });

  it('forwards none of them, in any case, with or without stripHeaders', () => {
    for (const header of TOKEN_HEADERS) {
      const spellings = [
        header,
        header.toUpperCase(),
        header.replace(/\b\w/g, (c) => c.toUpperCase()),
      ];
      for (const name of spellings) {
        for (const strip of [[], ['x-other']]) {
          const forwarded = forwardableHeaders({ [name]: TOKEN, 'x-tag': 'kept' }, strip);
          assert.deepEqual(forwarded, { 'x-tag': 'kept' }, `${name} was forwarded`);
        }
      }
    }
  });
});
