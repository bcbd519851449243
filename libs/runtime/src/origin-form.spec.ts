import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { originFormTarget } from './origin-form';

const target = (url: string) => originFormTarget({ url } as IncomingMessage);

describe('originFormTarget', () => {
  it('keeps a path (origin form) and an asterisk as they came', () => {
    assert.equal(target('/v1/chat/completions?x=1'), '/v1/chat/completions?x=1');
    assert.equal(target('*'), '*');
  });

  it('takes the scheme and authority, userinfo included, off an absolute-form target', () => {
    assert.equal(target('http://gateway/v1/messages'), '/v1/messages');
    assert.equal(
      target('HTTPS://gw.example:8443/v1beta/models/m:generateContent?alt=sse'),
      '/v1beta/models/m:generateContent?alt=sse',
    );
    assert.equal(target('http://user:pass@gateway/v1/models'), '/v1/models');
    assert.equal(target('http://[::1]:4000/v1/models'), '/v1/models');
  });

  it('gives an authority with no path the root, its query kept', () => {
    assert.equal(target('http://gateway'), '/');
    assert.equal(target('http://gateway?x=1'), '/?x=1');
  });

  it('keeps the path as sent: no dot segment or escape is resolved', () => {
    assert.equal(target('http://gateway/v1/../v1/models%2F'), '/v1/../v1/models%2F');
  });
});
