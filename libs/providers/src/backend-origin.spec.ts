import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendOrigin } from './backend-origin';

describe('backendOrigin: the pool a backend calls through', () => {
  it('its baseUrl, else its provider’s public endpoint', () => {
    assert.equal(
      backendOrigin({ provider: 'vllm', baseUrl: 'http://10.0.0.5:8000/v1' }),
      'http://10.0.0.5:8000',
    );
    assert.equal(backendOrigin({ provider: 'openai' }), 'https://api.openai.com');
    assert.equal(backendOrigin({ provider: 'anthropic' }), 'https://api.anthropic.com');
    assert.equal(
      backendOrigin({ provider: 'google-gemini' }),
      'https://generativelanguage.googleapis.com',
    );
    assert.equal(
      backendOrigin({ provider: 'vertex', vertex: { project: 'p', location: 'europe-west4' } }),
      'https://europe-west4-aiplatform.googleapis.com',
    );
  });

  it('none for a backend that calls no host or whose host is unknown', () => {
    assert.equal(backendOrigin({ provider: 'local' }), undefined);
    assert.equal(backendOrigin({ provider: 'vllm' }), undefined);
  });
});
