// A Messages client's documents with citations enabled, through the whole gateway to Claude
// on Bedrock: Converse is asked to cite them, and its citations (a citationsContent block,
// citation deltas in a stream) reach the client as Anthropic's on the cited text block, as
// the Anthropic SDK reads them from Anthropic's own API. The Bedrock Runtime is a fake that
// verifies every signature.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { FakeBedrockUpstream } from '@aigw/testing/fake-provider';
import type { AppProcess } from '@aigw/testing/processes';
import { startOnClaudeBedrockBackend } from './claude-on-bedrock';

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLECITATIONS',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLECITATIONS',
};

describe('Messages documents with citations enabled on Claude on Bedrock', () => {
  const bedrock = new FakeBedrockUpstream(CREDENTIALS);
  let gateway: AppProcess;
  let client: Anthropic;

  before(async () => {
    await bedrock.start();
    gateway = await startOnClaudeBedrockBackend(bedrock, CREDENTIALS, 'bedrock-citations');
    client = new Anthropic({ baseURL: gateway.baseUrl, apiKey: 'client-key', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await bedrock.stop();
  });

  const request: Anthropic.MessageCreateParamsNonStreaming = {
    model: 'claude',
    max_tokens: 256,
    messages: [
      {
        role: 'user',
        content: [
          {
            type: 'document',
            title: 'Notes',
            source: { type: 'text', media_type: 'text/plain', data: 'The sky is blue.' },
            citations: { enabled: true },
          },
          { type: 'text', text: 'What colour is the sky? Cite the notes.' },
        ],
      },
    ],
  };
  const citation = {
    type: 'char_location',
    cited_text: 'The sky is blue.',
    document_index: 0,
    document_title: 'Notes',
    start_char_index: 0,
    end_char_index: 16,
  };

  it('answers with the cited text block and its citation, then the uncited text', async () => {
    const message = await client.messages.create(request);
    const sent = bedrock.calls[0]?.body.messages as { content: unknown[] }[];
    assert.deepEqual(sent[0]?.content[0], {
      document: {
        format: 'txt',
        name: 'Notes',
        source: { bytes: Buffer.from('The sky is blue.').toString('base64') },
        citations: { enabled: true },
      },
    });
    assert.deepEqual(
      message.content.map((block) => (block.type === 'text' ? block : undefined)),
      [
        { type: 'text', text: 'The document says: The sky is blue.', citations: [citation] },
        { type: 'text', text: ' That is all it says.' },
      ],
    );
    assert.equal(message.stop_reason, 'end_turn');
  });

  it('streams the citation on the cited block, and the uncited text as a block of its own', async () => {
    const stream = client.messages.stream({ ...request, stream: true });
    const final = await stream.finalMessage();
    assert.deepEqual(
      final.content.map((block) =>
        block.type === 'text' ? { text: block.text, citations: block.citations } : block.type,
      ),
      [
        { text: 'The document says: The sky is blue.', citations: [citation] },
        { text: ' That is all it says.', citations: undefined },
      ],
    );
  });
});
