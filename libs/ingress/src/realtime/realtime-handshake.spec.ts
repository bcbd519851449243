import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chosenProtocol,
  clientSecretOf,
  identityHeaders,
  namedModel,
  offeredProtocols,
  REALTIME_PATHS,
  requestedModel,
} from './realtime-handshake';

describe('realtime handshake', () => {
  it('serves a session under every public prefix, Azure OpenAI’s included', () => {
    assert.deepEqual([...REALTIME_PATHS].sort(), [
      '/openai/realtime',
      '/openai/v1/realtime',
      '/realtime',
      '/v1/realtime',
    ]);
  });

  it('reads the model from ?model=, and from ?deployment= on Azure OpenAI’s preview path only', () => {
    const at = (path: string) => new URL(path, 'http://gateway');
    assert.equal(namedModel(at('/v1/realtime?model=voice')), 'voice');
    assert.equal(
      namedModel(at('/openai/realtime?api-version=2025-04-01-preview&deployment=azure-voice')),
      'azure-voice',
    );
    assert.equal(namedModel(at('/openai/realtime?deployment=d&model=m')), 'm');
    assert.equal(namedModel(at('/v1/realtime?deployment=azure-voice')), undefined);
    assert.equal(namedModel(at('/openai/v1/realtime?deployment=azure-voice')), undefined);
    assert.equal(namedModel(at('/openai/realtime?deployment=')), undefined);
    assert.throws(
      () => requestedModel(at('/realtime?deployment=azure-voice')),
      (error: Error & { param?: string }) => /'model' is required/.test(error.message),
    );
  });

  it('identifies a browser by its key subprotocol, and drops the header that holds it', () => {
    const headers = identityHeaders({
      'x-user-id': 'u1',
      'sec-websocket-protocol':
        'realtime, openai-insecure-api-key.sk-browser, openai-beta.realtime-v1',
    });
    assert.deepEqual(headers, { 'x-user-id': 'u1', authorization: 'Bearer sk-browser' });
  });

  it('finds a client secret as a bearer token or a browser key subprotocol, and nothing else', () => {
    assert.equal(clientSecretOf({ authorization: 'Bearer ek_abc-_1' }), 'ek_abc-_1');
    assert.equal(
      clientSecretOf({ 'sec-websocket-protocol': 'realtime, openai-insecure-api-key.ek_xyz' }),
      'ek_xyz',
    );
    assert.equal(clientSecretOf({ authorization: 'Bearer sk-own-key' }), undefined);
    assert.equal(clientSecretOf({ 'x-user-id': 'u1' }), undefined);
    assert.equal(clientSecretOf({ authorization: 'ek_no-scheme' }), undefined);
  });

  it('an Authorization header wins over the subprotocol key', () => {
    const headers = identityHeaders({
      authorization: 'Bearer sk-header',
      'sec-websocket-protocol': 'openai-insecure-api-key.sk-browser',
    });
    assert.deepEqual(headers, { authorization: 'Bearer sk-header' });
  });

  it('answers realtime when offered, else the first protocol that is no key, never a key', () => {
    assert.equal(
      chosenProtocol(offeredProtocols({ 'sec-websocket-protocol': 'a, realtime' })),
      'realtime',
    );
    assert.equal(
      chosenProtocol(['openai-insecure-api-key.sk', 'openai-beta.realtime-v1']),
      'openai-beta.realtime-v1',
    );
    assert.equal(chosenProtocol(['openai-insecure-api-key.sk']), false);
    assert.equal(chosenProtocol([]), false);
  });
});
