import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { methodsAllowedAt, refuseUnlistedRoute, SERVED_PATHS } from './public-paths';

describe('methodsAllowedAt', () => {
  it('names the methods of every served path, with and without /v1', () => {
    const cases: [string, string[]][] = [
      ['/v1/chat/completions', ['POST']],
      ['/responses', ['POST']],
      ['/v1/messages/count_tokens', ['POST']],
      ['/v1/models', ['GET', 'HEAD']],
      ['/v1/models/meta-llama/Llama-3-8B', ['GET', 'HEAD']],
      ['/v1/responses/resp_1', ['GET', 'DELETE']],
      ['/v1/responses/resp_1/input_items?limit=2', ['GET']],
      ['/v1/responses/input_tokens', ['POST']],
      ['/responses/compact', ['POST']],
      ['/v1/responses/resp_1/cancel', ['POST']],
      ['/v1/conversations', ['POST']],
      ['/conversations/conv_1', ['GET', 'POST', 'DELETE']],
      ['/v1/conversations/conv_1/items', ['GET', 'POST']],
      ['/v1/conversations/conv_1/items/msg_1', ['GET', 'DELETE']],
      ['/v1/files', ['GET', 'POST']],
      ['/v1/files/file-1', ['GET', 'DELETE']],
      ['/files/file-1/content', ['GET']],
      ['/v1/batches', ['GET', 'POST']],
      ['/v1/batches/batch_1', ['GET']],
      ['/v1/batches/batch_1/cancel', ['POST']],
      ['/v1/realtime', ['GET']],
      ['/v1/realtime/client_secrets', ['POST']],
    ];
    for (const [url, methods] of cases) assert.deepEqual(methodsAllowedAt(url), methods, url);
  });

  it('knows no other path: those stay a 404', () => {
    for (const url of [
      '/v1/nope',
      '/v1/files/file-1/content/more',
      '/v1/batches/batch_1/retry',
      '/v1/responses/resp_1/retry',
      '/v1/conversations/conv_1/items/msg_1/x',
      '/v1/models/',
      '/v2/files',
    ]) {
      assert.equal(methodsAllowedAt(url), undefined, url);
    }
  });
});

describe('refuseUnlistedRoute', () => {
  it('passes every listed route as registered, a GET with its HEAD', () => {
    for (const [pattern, methods] of SERVED_PATHS) {
      for (const prefix of ['/v1', '']) {
        refuseUnlistedRoute(prefix + pattern, methods);
        if (methods.includes('GET')) refuseUnlistedRoute(prefix + pattern, 'HEAD');
      }
    }
    refuseUnlistedRoute('/v1/chat/completions', 'POST');
  });

  it('throws for a route the table misses, naming it, so the edge does not start with it', () => {
    for (const [pattern, method] of [
      ['/v1/files/:id', 'PUT'],
      ['/v1/batches/:id/cancel', 'GET'],
      ['/v1/widgets', 'GET'],
      ['/v1/responses/:id/input_items', ['GET', 'DELETE']],
    ] as const) {
      assert.throws(
        () => refuseUnlistedRoute(pattern, method),
        (error: Error) =>
          error.message.includes(pattern) && /not listed in SERVED_PATHS/.test(error.message),
        pattern,
      );
    }
  });
});
