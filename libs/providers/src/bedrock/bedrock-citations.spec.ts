import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonAnswer,
  type JsonObject,
  type StreamAnswer,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';
import {
  collectStream,
  FakeBedrockUpstream,
  gatewayChatRequest,
  upstreamTarget,
} from '@aigw/testing/fake-provider';
import { TEST_AWS_CREDENTIALS, useEnvAwsCredentials } from '../testing/env-aws-credentials';
import { anthropicCitation } from './bedrock-citations';
import { BedrockAdapter } from './bedrock.adapter';

// Documents that ask to be cited reach Claude on Bedrock as cited Converse documents, and
// its citations (citationsContent blocks, citation deltas) come back as Anthropic's, on the
// cited text parts: what an Anthropic backend answers for the same request.

const CITED = { enabled: true };
const TEXT_PART = {
  type: 'text',
  text: 'The sky is blue.',
  document: { title: 'Notes', citations: CITED },
};
const PDF_PART = {
  type: 'file',
  file: {
    file_data: 'data:application/pdf;base64,JVBERi0=',
    filename: 'report.pdf',
    citations: CITED,
  },
};

function citedRequest(part: JsonObject, extra: JsonObject = {}): GatewayRequest {
  return gatewayChatRequest({
    messages: [{ role: 'user', content: [part, { type: 'text', text: 'Cite it.' }] }],
    ...extra,
  });
}

const NOTES_CITATION = {
  type: 'char_location',
  cited_text: 'The sky is blue.',
  document_index: 0,
  document_title: 'Notes',
  start_char_index: 0,
  end_char_index: 16,
};

describe('cited documents on Claude on Bedrock', () => {
  const upstream = new FakeBedrockUpstream(TEST_AWS_CREDENTIALS);
  useEnvAwsCredentials(TEST_AWS_CREDENTIALS);
  const adapter = new BedrockAdapter();
  let target: (model: string) => UpstreamTarget;
  const invoke = (
    request: GatewayRequest,
    model = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  ) => adapter.invoke({ request, target: target(model), signal: new AbortController().signal });

  before(async () => {
    await upstream.start();
    target = (model) => upstreamTarget({ provider: 'bedrock', model, baseUrl: upstream.baseUrl });
  });
  after(() => upstream.stop());
  beforeEach(() => upstream.reset());

  it('sends a plain-text document as a cited txt document, a PDF as a cited pdf', async () => {
    await invoke(citedRequest(TEXT_PART));
    await invoke(citedRequest(PDF_PART));
    const documents = upstream.calls.map(
      (call) => ((call.body.messages as JsonObject[])[0].content as JsonObject[])[0],
    );
    assert.deepEqual(documents, [
      {
        document: {
          format: 'txt',
          name: 'Notes',
          source: { bytes: Buffer.from('The sky is blue.').toString('base64') },
          citations: CITED,
        },
      },
      {
        document: {
          format: 'pdf',
          name: 'report',
          source: { bytes: 'JVBERi0=' },
          citations: CITED,
        },
      },
    ]);
  });

  it('answers with the cited text and its citations in order, as Anthropic does', async () => {
    const answer = (await invoke(citedRequest(TEXT_PART))) as JsonAnswer;
    const [choice] = answer.body.choices as JsonObject[];
    assert.deepEqual((choice.message as JsonObject).content, [
      { type: 'text', text: 'The document says: The sky is blue.', citations: [NOTES_CITATION] },
      { type: 'text', text: ' That is all it says.' },
    ]);
    assert.equal(choice.finish_reason, 'stop');
  });

  it('cites a PDF by its pages', async () => {
    const answer = (await invoke(citedRequest(PDF_PART))) as JsonAnswer;
    const [choice] = answer.body.choices as JsonObject[];
    const [cited] = (choice.message as JsonObject).content as JsonObject[];
    assert.deepEqual(cited.citations, [
      {
        type: 'page_location',
        cited_text: 'Page one of the report.',
        document_index: 0,
        document_title: 'report',
        start_page_number: 1,
        end_page_number: 2,
      },
    ]);
  });

  it('streams each source before its text, and a new part for the uncited text after', async () => {
    const chunks = await collectStream(
      (await invoke(citedRequest(TEXT_PART, { stream: true }))) as StreamAnswer,
    );
    const deltas = chunks
      .map((chunk) => (chunk.choices as JsonObject[] | undefined)?.[0]?.delta as JsonObject)
      .filter((delta) => delta && delta.role === undefined && Object.keys(delta).length > 0);
    assert.deepEqual(deltas, [
      { citations: [NOTES_CITATION] },
      { content: 'The document says: The sky is blue.' },
      { citations: [] },
      { content: ' That is all it says.' },
    ]);
  });

  it('is a 400 naming the citations on a model that is not Claude, before any call', async () => {
    await assert.rejects(
      invoke(citedRequest(TEXT_PART), 'amazon.nova-pro-v1:0'),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.code === DataPlaneErrorCode.InvalidRequest &&
        error.param === 'messages[0].content[0].document.citations',
    );
    assert.equal(upstream.calls.length, 0);
  });
});

describe('anthropicCitation', () => {
  it('reads each document location Converse names, and no other', () => {
    const source = { sourceContent: [{ text: 'a' }, { text: 'b' }], title: 'T' };
    assert.deepEqual(
      anthropicCitation({
        ...source,
        location: { documentChunk: { documentIndex: 2, start: 0, end: 1 } },
      }),
      {
        type: 'content_block_location',
        cited_text: 'ab',
        document_index: 2,
        document_title: 'T',
        start_block_index: 0,
        end_block_index: 1,
      },
    );
    assert.equal(
      anthropicCitation({ ...source, location: { web: { url: 'https://x' } } }),
      undefined,
    );
    assert.equal(
      anthropicCitation({ ...source, location: { documentChar: { documentIndex: 0, start: 1 } } }),
      undefined,
    );
  });
});
