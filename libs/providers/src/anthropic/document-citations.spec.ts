import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import {
  FakeAnthropicUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { withoutGatewayExtensions } from '../core/openai-extensions';
import { fakeGeminiBackend } from '../testing/fake-gemini-backend';
import { useFakeVertexEndpoints } from '../testing/fake-vertex-endpoints';
import { AnthropicAdapter } from './anthropic.adapter';

// Documents that ask to be cited (the parts the Messages edge makes of `citations:
// {enabled: true}`) reach Anthropic as cited documents; a backend that cannot cite refuses
// them by name rather than answer without the citations.

const CITED = { enabled: true };
const PDF_PART = {
  type: 'file',
  file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a', citations: CITED },
};
const URL_PART = {
  type: 'file',
  file: { file_url: 'https://example.com/a.pdf', citations: CITED },
};
const TEXT_PART = {
  type: 'text',
  text: 'The sky is blue.',
  document: { title: 'Notes', citations: CITED },
};

function citedRequest(...parts: JsonObject[]): GatewayRequest {
  return gatewayChatRequest({
    messages: [{ role: 'user', content: [...parts, { type: 'text', text: 'Cite it.' }] }],
  });
}

function isCitationsRefusal(param: string) {
  return (error: unknown) =>
    error instanceof DataPlaneError &&
    error.code === DataPlaneErrorCode.InvalidRequest &&
    error.param === param &&
    /cite/.test(error.message);
}

describe('cited documents on an Anthropic backend', () => {
  const upstream = new FakeAnthropicUpstream();
  const adapter = new AnthropicAdapter();
  let target: UpstreamTarget;
  before(async () => {
    await upstream.start();
    target = upstreamTarget(
      { provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: upstream.baseUrl },
      { headerName: 'x-api-key', value: 'sk-ant-secret' },
    );
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  it('sends each as a document with citations enabled: PDF, PDF by URL, plain text', async () => {
    await adapter.invoke({
      request: citedRequest(PDF_PART, URL_PART, TEXT_PART),
      target,
      signal: new AbortController().signal,
    });
    const [message] = upstream.calls[0].body.messages as JsonObject[];
    assert.deepEqual(message.content, [
      {
        type: 'document',
        source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' },
        title: 'a',
        citations: CITED,
      },
      {
        type: 'document',
        source: { type: 'url', url: 'https://example.com/a.pdf' },
        citations: CITED,
      },
      {
        type: 'document',
        source: { type: 'text', media_type: 'text/plain', data: 'The sky is blue.' },
        title: 'Notes',
        citations: CITED,
      },
      { type: 'text', text: 'Cite it.' },
    ]);
  });
});

describe('cited documents on Claude on Vertex AI', () => {
  const { claude, gemini, target, invoke } = useFakeVertexEndpoints({
    project: 'proj-1',
    location: 'us-central1',
  });

  it('reach Claude as cited documents; Gemini on Vertex refuses them by name', async () => {
    await invoke(citedRequest(PDF_PART), target('claude-sonnet-4-5@20250929', claude.baseUrl));
    const [message] = claude.calls[0].body.messages as JsonObject[];
    assert.deepEqual((message.content as JsonObject[])[0].citations, CITED);
    await assert.rejects(
      invoke(citedRequest(PDF_PART), target('gemini-2.5-flash', gemini.baseUrl)),
      isCitationsRefusal('messages[0].content[0].file.citations'),
    );
    assert.equal(gemini.calls.length, 0);
  });
});

describe('cited documents on a backend that cannot cite', () => {
  const gemini = fakeGeminiBackend();

  it('are a 400 naming the citations on Gemini, before any call', async () => {
    await assert.rejects(
      gemini.invoke(citedRequest(PDF_PART)),
      isCitationsRefusal('messages[0].content[0].file.citations'),
    );
    await assert.rejects(
      gemini.invoke(citedRequest(TEXT_PART)),
      isCitationsRefusal('messages[0].content[0].document.citations'),
    );
    assert.equal(gemini.upstream.calls.length, 0);
  });

  it('are a 400 naming the citations on an OpenAI-format backend', () => {
    for (const [part, param] of [
      [PDF_PART, 'messages[0].content[0].file.citations'],
      [TEXT_PART, 'messages[0].content[0].document.citations'],
    ] as const) {
      assert.throws(
        () => withoutGatewayExtensions(citedRequest(part).body),
        isCitationsRefusal(param),
      );
    }
  });
});
