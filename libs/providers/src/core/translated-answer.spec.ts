import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';
import { gatewayChatRequest, upstreamTarget } from '@aigw/testing/fake-provider';
import { translatedJsonAnswer } from './translated-answer';
import { badResponse } from './upstream-http';

describe('translatedJsonAnswer', () => {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ content: null }));
    });
  });
  const agent = new Agent();
  let baseUrl = '';

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await agent.close();
    server.closeAllConnections();
    server.close();
  });

  const answerWith = (translate: (body: JsonObject) => never) =>
    translatedJsonAnswer(
      {
        request: gatewayChatRequest(),
        target: upstreamTarget({ provider: 'test', model: 'm', baseUrl }),
        signal: new AbortController().signal,
      },
      { url: `${baseUrl}/answer`, headers: {}, body: '{}' },
      agent,
      translate,
      'a body that is not a test answer',
    );

  it('reports a translation that throws on an unforeseen shape as a bad response, with the cause', async () => {
    const typeError = new TypeError("Cannot read properties of null (reading 'length')");
    await assert.rejects(
      answerWith(() => {
        throw typeError;
      }),
      (error: unknown) => {
        assert.ok(
          error instanceof DataPlaneError,
          `expected a DataPlaneError, got ${String(error)}`,
        );
        assert.equal(error.code, DataPlaneErrorCode.UpstreamBadResponse);
        assert.match(error.message, /answered with a body that is not a test answer/);
        assert.equal(error.cause, typeError);
        return true;
      },
    );
  });

  it("passes on the translation's own DataPlaneError unchanged", async () => {
    const refusal = badResponse('fake-test', 'a tool call without a name');
    await assert.rejects(
      answerWith(() => {
        throw refusal;
      }),
      (error: unknown) => error === refusal,
    );
  });
});
