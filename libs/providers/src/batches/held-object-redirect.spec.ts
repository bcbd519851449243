import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { isDataPlaneError } from '@aigw/testing/fake-provider';
import { HeldObjectUpstream } from './held-object-upstream';

// A backend that answers a Files or Batch call with a redirect to another origin: the
// backend's key (Azure's api-key, a custom header) must not follow it there.
describe('Files and Batch calls answered with a redirect', () => {
  const reached: IncomingHttpHeaders[] = [];
  const elsewhere = createServer((request, response) => {
    reached.push(request.headers);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"id":"file-elsewhere","object":"file"}');
  });
  let elsewhereUrl = '';
  const redirecting = createServer((request, response) => {
    response.writeHead(307, { location: `${elsewhereUrl}${request.url}` });
    response.end();
  });
  let baseUrl = '';
  const backend = () => ({
    backendName: 'azure-files',
    provider: 'azure',
    baseUrl,
    requestTimeoutMs: 5_000,
    credential: {
      headerName: 'api-key',
      headerPrefix: '',
      apiKey: { reveal: () => 'azure-key-0123456789' },
    },
  });
  const upstream = new HeldObjectUpstream({ AZURE_OPENAI_API_VERSION: 'v1' });

  before(async () => {
    for (const server of [elsewhere, redirecting]) {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    }
    elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
    baseUrl = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const server of [elsewhere, redirecting]) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('does not follow it from a call (send): the key stays with the backend', async () => {
    await assert.rejects(
      upstream.send(backend(), 'GET', '/files/file-1'),
      isDataPlaneError(DataPlaneErrorCode.UpstreamBadResponse, /redirect/),
    );
    assert.deepEqual(reached, []);
  });

  it("does not follow it from a file's content (open)", async () => {
    await assert.rejects(
      upstream.open(backend(), '/files/file-1/content'),
      isDataPlaneError(DataPlaneErrorCode.UpstreamBadResponse, /redirect/),
    );
    assert.deepEqual(reached, []);
  });
});
