import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  type DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type StreamAnswer,
} from '@aigw/contracts/data-plane';
import {
  collectStream,
  gatewayChatRequest,
  streamedText,
  type ProviderFakeCall,
} from '@aigw/testing/fake-provider';
import { takeSpentUsage } from '../core/spent-usage';
import { GoogleAccessTokens } from './google-access-token';
import { VertexAdapter } from './vertex.adapter';
import { useFakeVertexEndpoints } from '../testing/fake-vertex-endpoints';

const PLACE = { project: 'proj-1', location: 'us-central1' };

describe('VertexAdapter: a token Vertex refuses (401) is replaced once within the call', () => {
  const { oauth, gemini, claude, target } = useFakeVertexEndpoints(PLACE);

  /** An adapter with tokens of its own, and a call of it to a model on its fake. */
  const adapterFor = () => {
    const adapter = new VertexAdapter({ tokens: new GoogleAccessTokens() });
    return (request: GatewayRequest, model: string, baseUrl: string) =>
      adapter.invoke({
        request,
        target: target(model, baseUrl),
        signal: new AbortController().signal,
      });
  };
  const bearerOf = (call: ProviderFakeCall) =>
    String(call.headers.authorization).slice('Bearer '.length);

  it('answers calls made with a revoked cached token, with one fresh token for all of them', async () => {
    const call = adapterFor();
    await call(gatewayChatRequest(), 'gemini-2.5-flash', gemini.baseUrl);
    const revoked = bearerOf(gemini.calls[0]);
    oauth.issued.delete(revoked); // revoked: Vertex answers it 401
    const exchanges = oauth.exchanges;
    const answers = await Promise.all([
      call(gatewayChatRequest(), 'gemini-2.5-flash', gemini.baseUrl),
      call(gatewayChatRequest(), 'gemini-2.5-flash', gemini.baseUrl),
      call(gatewayChatRequest(), 'gemini-2.5-flash', gemini.baseUrl),
    ]);
    assert.ok(answers.every((answer) => answer.kind === 'json'));
    assert.equal(oauth.exchanges, exchanges + 1, 'one fresh token for the three refusals');
    const sent = gemini.calls.slice(1).map(bearerOf);
    assert.equal(sent.filter((token) => token === revoked).length, 3, 'each tried once with it');
    assert.equal(sent.length, 6, 'and once again with the fresh one');
  });

  it('makes a streamed Claude call again with a fresh token before any of it was sent', async () => {
    const call = adapterFor();
    const model = 'claude-sonnet-4-5@20250929';
    await call(gatewayChatRequest(), model, claude.baseUrl);
    oauth.issued.delete(bearerOf(claude.calls[0]));
    const answer = (await call(
      gatewayChatRequest({ stream: true }),
      model,
      claude.baseUrl,
    )) as StreamAnswer;
    assert.equal(answer.kind, 'stream');
    assert.ok(streamedText(await collectStream(answer)).length > 0);
    assert.equal(claude.calls.length, 3);
    assert.ok(oauth.authorizes(claude.calls[2].headers.authorization));
  });

  it('tries once only: a fresh token refused too is the backend refusing the gateway', async () => {
    const call = adapterFor();
    await call(gatewayChatRequest(), 'gemini-2.5-flash', gemini.baseUrl);
    gemini.calls.length = 0;
    const refusal = {
      kind: 'status' as const,
      status: 401,
      body: {
        error: {
          code: 401,
          message: 'Request had invalid authentication credentials.',
          status: 'UNAUTHENTICATED',
        },
      },
    };
    gemini.next(refusal, refusal);
    await assert.rejects(
      call(gatewayChatRequest(), 'gemini-2.5-flash', gemini.baseUrl),
      (error: DataPlaneError) => {
        assert.equal(error.code, DataPlaneErrorCode.UpstreamError);
        assert.equal(error.upstreamStatus, 401);
        for (const token of oauth.issued) assert.ok(!error.message.includes(token));
        return true;
      },
    );
    assert.equal(gemini.calls.length, 2, 'the call and its one retry');
    assert.notEqual(bearerOf(gemini.calls[0]), bearerOf(gemini.calls[1]));
  });

  it('does not make an embeddings list again when part of it was answered and billed', async () => {
    const call = adapterFor();
    const input = Array.from({ length: 251 }, (_, index) => `text ${index}`);
    gemini.next({ kind: 'ok' }, { kind: 'status', status: 401 });
    const request = gatewayChatRequest(
      {},
      { operation: 'embeddings', body: { model: 'm', input } },
    );
    await assert.rejects(call(request, 'text-embedding-005', gemini.baseUrl), (error) => {
      assert.equal((error as DataPlaneError).upstreamStatus, 401);
      assert.ok(takeSpentUsage(error)?.inputTokens, 'the answered call is still billed');
      return true;
    });
    assert.equal(gemini.calls.length, 2, 'the two calls of the list, neither made again');
  });
});
