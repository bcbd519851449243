import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AdminServer, type AdminFailure } from './admin-server';

describe('the admin port when an answer fails', () => {
  const failures: AdminFailure[] = [];
  const server = new AdminServer({
    metrics: async () => 'metric 1\n',
    metricsContentType: 'text/plain',
    ready: async () => {
      throw new Error('readiness source broke');
    },
    routes: [
      {
        method: 'POST',
        path: /^\/admin\/explode$/,
        handle: async () => {
          throw new Error('store said ECONNRESET');
        },
      },
    ],
    onFailed: (failure) => failures.push(failure),
  });
  let base = '';
  before(async () => {
    base = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}`;
  });
  after(() => server.close());

  it('answers a JSON 500 that keeps the cause for the log, and tells the log', async () => {
    const response = await fetch(`${base}/admin/explode?x=1`, { method: 'POST', body: '{}' });
    assert.equal(response.status, 500);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    const body = (await response.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'internal_error');
    assert.ok(!body.error.message.includes('ECONNRESET'), body.error.message);
    assert.equal(failures.length, 1);
    assert.equal(failures[0].path, '/admin/explode');
    assert.match((failures[0].error as Error).message, /ECONNRESET/);
  });

  it('a readiness source that throws is a 500 too, and the port keeps serving', async () => {
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 500);
    assert.equal(
      ((await ready.json()) as { error: { type: string } }).error.type,
      'internal_error',
    );
    assert.equal(failures.at(-1)?.path, '/readyz');
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });
});
