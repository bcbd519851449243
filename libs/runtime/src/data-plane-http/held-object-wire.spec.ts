import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeHeldObjectCall } from './held-object-wire';

describe('held-object wire calls', () => {
  const call = {
    backendName: 'b',
    provider: 'openai',
    method: 'GET',
    path: '/files/file-1/content',
  };

  it('reads a Files or Batch API call', () => {
    assert.deepEqual(decodeHeldObjectCall(call), {
      ...call,
      contentType: undefined,
      base64: undefined,
    });
    const upload = {
      ...call,
      method: 'POST',
      path: '/files',
      contentType: 'multipart/form-data; boundary=x',
      base64: 'AA==',
    };
    assert.equal(decodeHeldObjectCall(upload).base64, 'AA==');
    assert.equal(
      decodeHeldObjectCall({ ...call, method: 'POST', path: '/batches/batch_1/cancel' }).path,
      '/batches/batch_1/cancel',
    );
  });

  it('refuses any other path or method, so a peer reaches nothing else of a backend', () => {
    for (const path of [
      '/chat/completions',
      '/files/../models',
      '/files/a/b/c',
      'files',
      '/files?x=1',
      '/batches/a%2F..//x',
    ]) {
      assert.throws(() => decodeHeldObjectCall({ ...call, path }), /path/, path);
    }
    assert.throws(() => decodeHeldObjectCall({ ...call, method: 'PUT' }), /method/);
    assert.throws(() => decodeHeldObjectCall({ ...call, backendName: '' }), /backendName/);
    assert.throws(() => decodeHeldObjectCall(null), /body/);
  });
});
