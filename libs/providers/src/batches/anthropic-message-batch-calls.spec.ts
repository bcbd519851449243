import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Secret } from '@aigw/config';
import { HeldObjectUpstream, heldObjectCallAllowed, heldObjectUrl } from './held-object-upstream';

describe("Anthropic's Message Batches API as held-object calls", () => {
  it('puts its paths under the API root, with or without a configured /v1', () => {
    assert.equal(
      heldObjectUrl({ provider: 'anthropic' }, '/messages/batches'),
      'https://api.anthropic.com/v1/messages/batches',
    );
    for (const baseUrl of ['http://fake:8080', 'http://fake:8080/', 'http://fake:8080/v1/']) {
      assert.equal(
        heldObjectUrl({ provider: 'anthropic', baseUrl }, '/messages/batches/mb1/results'),
        'http://fake:8080/v1/messages/batches/mb1/results',
      );
    }
  });

  it("lets an Anthropic backend's key reach its message batches only, and only it", () => {
    assert.equal(heldObjectCallAllowed('anthropic', '/messages/batches'), true);
    assert.equal(heldObjectCallAllowed('anthropic', '/messages/batches/mb1/cancel'), true);
    assert.equal(heldObjectCallAllowed('anthropic', '/messages'), false);
    assert.equal(heldObjectCallAllowed('anthropic', '/files'), false);
    assert.equal(heldObjectCallAllowed('anthropic', '/messages/batchesX'), false);
    // A dot segment a URL would resolve to another path.
    assert.equal(heldObjectCallAllowed('anthropic', '/messages/batches/../../complete'), false);
    assert.equal(heldObjectCallAllowed('anthropic', '/messages/batches/%2E%2e/x'), false);
    assert.equal(heldObjectCallAllowed('openai', '/files/f1/content'), true);
    assert.equal(heldObjectCallAllowed('azure', '/batches'), true);
    assert.equal(heldObjectCallAllowed('openai', '/files/../models'), false);
    assert.equal(heldObjectCallAllowed('gemini', '/files'), false);
    // Nor an OpenAI or Azure key Anthropic's paths (an OpenAI-format proxy may serve them).
    assert.equal(heldObjectCallAllowed('openai', '/messages/batches'), false);
    assert.equal(heldObjectCallAllowed('azure', '/messages/batches/mb1/results'), false);
  });

  describe('a call made', () => {
    let seen: IncomingHttpHeaders | undefined;
    let seenPath = '';
    const server = createServer((request, response) => {
      seen = request.headers;
      seenPath = request.url ?? '';
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"id":"msgbatch_1","type":"message_batch"}');
    });
    let baseUrl = '';

    before(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('sends the backend key as x-api-key with the API version, never more', async () => {
      const answer = await new HeldObjectUpstream({}).send(
        {
          backendName: 'claude',
          provider: 'anthropic',
          baseUrl,
          requestTimeoutMs: 5_000,
          credential: {
            headerName: 'x-api-key',
            headerPrefix: '',
            apiKey: new Secret('sk-ant-backend'),
          },
        },
        'GET',
        '/messages/batches/msgbatch_1',
      );
      assert.equal(answer.status, 200);
      assert.equal(seenPath, '/v1/messages/batches/msgbatch_1');
      assert.equal(seen?.['x-api-key'], 'sk-ant-backend');
      assert.equal(seen?.['anthropic-version'], '2023-06-01');
      assert.equal(seen?.authorization, undefined);
    });

    it("sends a message batch's anthropic-beta beside its key, never in place of it", async () => {
      const target = {
        backendName: 'claude',
        provider: 'anthropic',
        baseUrl,
        requestTimeoutMs: 5_000,
        credential: {
          headerName: 'x-api-key',
          headerPrefix: '',
          apiKey: new Secret('sk-ant-backend'),
        },
      };
      const body = { contentType: 'application/json', data: Buffer.from('{"requests":[]}') };
      const upstream = new HeldObjectUpstream({});
      await upstream.send(target, 'POST', '/messages/batches', body, {
        'anthropic-beta': 'interleaved-thinking-2025-05-14,context-1m-2025-08-07',
      });
      assert.equal(
        seen?.['anthropic-beta'],
        'interleaved-thinking-2025-05-14,context-1m-2025-08-07',
      );
      assert.equal(seen?.['x-api-key'], 'sk-ant-backend');
      assert.equal(seen?.['anthropic-version'], '2023-06-01');
      // Not an OpenAI backend's (it means nothing there).
      await upstream.send(
        { ...target, provider: 'openai', baseUrl: `${baseUrl}/v1` },
        'GET',
        '/batches',
        undefined,
        {
          'anthropic-beta': 'x',
        },
      );
      assert.equal(seen?.['anthropic-beta'], undefined);
    });
  });
});
