import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, DataPlaneErrorCode, type TokenUsage } from '@aigw/contracts/data-plane';
import {
  toGeminiBatchEmbedResponse,
  toGeminiEmbedResponse,
  translateGeminiBatchEmbedRequest,
  translateGeminiEmbedRequest,
} from './gemini-embeddings';
import { geminiError } from './gemini-errors';

/** The Google error a translation throws, as the edge would send it. */
function refusal(run: () => unknown): { code: number; status: string; message: string } {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof DataPlaneError, String(error));
    return geminiError(error).body.error;
  }
  assert.fail('expected a refusal');
}

const USAGE: TokenUsage = {
  inputTokens: 7,
  outputTokens: 0,
  cachedInputTokens: 0,
  source: 'reported',
};

function openAiList(...vectors: number[][]) {
  return {
    object: 'list',
    model: 'text-embedding-3-small',
    data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
    usage: { prompt_tokens: 7, total_tokens: 7 },
  };
}

describe('Gemini embedContent to canonical embeddings', () => {
  it('takes the text parts as one input and outputDimensionality as dimensions', () => {
    assert.deepEqual(
      translateGeminiEmbedRequest(
        {
          content: { parts: [{ text: 'first line' }, { text: 'second line' }] },
          taskType: 'RETRIEVAL_DOCUMENT',
          title: 'A title',
          outputDimensionality: 256,
        },
        'gemini-embed',
      ),
      {
        model: 'gemini-embed',
        input: 'first line\nsecond line',
        dimensions: 256,
        // For Gemini and Vertex backends, which apply them; the others leave them.
        provider_extras: { task_type: 'RETRIEVAL_DOCUMENT', title: 'A title' },
      },
    );
  });

  it('reads the settings from embedContentConfig too', () => {
    assert.deepEqual(
      translateGeminiEmbedRequest(
        {
          content: { parts: [{ text: 'x' }] },
          embedContentConfig: { outputDimensionality: 8, taskType: 'RETRIEVAL_QUERY' },
        },
        'm',
      ),
      { model: 'm', input: 'x', dimensions: 8, provider_extras: { task_type: 'RETRIEVAL_QUERY' } },
    );
  });

  it("refuses non-text parts and bad fields with Google's 400", () => {
    const image = refusal(() =>
      translateGeminiEmbedRequest(
        {
          content: {
            parts: [{ text: 'a' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }],
          },
        },
        'm',
      ),
    );
    assert.equal(image.code, 400);
    assert.equal(image.status, 'INVALID_ARGUMENT');
    assert.match(image.message, /content\.parts\[1\].*only text parts.*inlineData/);
    assert.match(refusal(() => translateGeminiEmbedRequest({}, 'm')).message, /'content'/);
    assert.match(
      refusal(() => translateGeminiEmbedRequest({ content: { parts: [] } }, 'm')).message,
      /content\.parts/,
    );
    assert.match(
      refusal(() =>
        translateGeminiEmbedRequest(
          { content: { parts: [{ text: 'a' }] }, outputDimensionality: 0 },
          'm',
        ),
      ).message,
      /outputDimensionality/,
    );
    assert.match(
      refusal(() =>
        translateGeminiEmbedRequest({ content: { parts: [{ text: 'a' }] }, taskType: 3 }, 'm'),
      ).message,
      /taskType/,
    );
    assert.equal(refusal(() => translateGeminiEmbedRequest([], 'm')).code, 400);
  });
});

describe('Gemini batchEmbedContents to canonical embeddings', () => {
  const request = (text: string, model = 'models/gemini-embed', extra = {}) => ({
    model,
    content: { parts: [{ text }] },
    ...extra,
  });

  it('takes every request as one input, in order', () => {
    assert.deepEqual(
      translateGeminiBatchEmbedRequest(
        {
          requests: [
            request('one', 'models/gemini-embed', { outputDimensionality: 4 }),
            request('two', 'gemini-embed', { outputDimensionality: 4, taskType: 'CLUSTERING' }),
          ],
        },
        'gemini-embed',
      ),
      {
        model: 'gemini-embed',
        input: ['one', 'two'],
        dimensions: 4,
        provider_extras: { task_type: [null, 'CLUSTERING'] },
      },
    );
  });

  it('sends one taskType and title for the batch when every request has the same, and none when none has', () => {
    const same = { taskType: 'RETRIEVAL_DOCUMENT', title: 'Doc' };
    assert.deepEqual(
      translateGeminiBatchEmbedRequest(
        { requests: [request('one', 'models/m', same), request('two', 'models/m', same)] },
        'm',
      ).provider_extras,
      { task_type: 'RETRIEVAL_DOCUMENT', title: 'Doc' },
    );
    const titled = translateGeminiBatchEmbedRequest(
      {
        requests: [
          request('one', 'models/m', { ...same, title: 'First' }),
          request('two', 'models/m', same),
        ],
      },
      'm',
    );
    assert.deepEqual(titled.provider_extras, {
      task_type: 'RETRIEVAL_DOCUMENT',
      title: ['First', 'Doc'],
    });
    const plain = translateGeminiBatchEmbedRequest(
      { requests: [request('one', 'models/m'), request('two', 'models/m')] },
      'm',
    );
    assert.equal(plain.provider_extras, undefined);
  });

  it("refuses a request for another model, none, or sizes that differ, in Google's shape", () => {
    const other = refusal(() =>
      translateGeminiBatchEmbedRequest(
        { requests: [request('a'), request('b', 'models/other')] },
        'gemini-embed',
      ),
    );
    assert.equal(other.status, 'INVALID_ARGUMENT');
    assert.match(other.message, /requests\[1\]\.model.*models\/other.*models\/gemini-embed/);
    assert.match(
      refusal(() => translateGeminiBatchEmbedRequest({ requests: [] }, 'm')).message,
      /'requests'/,
    );
    assert.match(
      refusal(() =>
        translateGeminiBatchEmbedRequest(
          { requests: [{ content: { parts: [{ text: 'a' }] } }] },
          'm',
        ),
      ).message,
      /requests\[0\]\.model/,
    );
    assert.match(
      refusal(() =>
        translateGeminiBatchEmbedRequest(
          {
            requests: [
              request('a', 'models/m', { outputDimensionality: 4 }),
              request('b', 'models/m'),
            ],
          },
          'm',
        ),
      ).message,
      /requests\[1\]\.outputDimensionality/,
    );
    assert.match(
      refusal(() =>
        translateGeminiBatchEmbedRequest(
          {
            requests: [
              request('a', 'models/m'),
              { model: 'models/m', content: { parts: [{ fileData: {} }] } },
            ],
          },
          'm',
        ),
      ).message,
      /requests\[1\]\.content\.parts\[0\].*fileData/,
    );
  });
});

describe('Gemini embedding refusals that would otherwise reach the backend', () => {
  it('refuses an empty text, a text that is not a string, and a batch over 100', () => {
    const empty = refusal(() =>
      translateGeminiEmbedRequest({ content: { parts: [{ text: '' }, { text: '' }] } }, 'm'),
    );
    assert.equal(empty.status, 'INVALID_ARGUMENT');
    assert.match(empty.message, /'content\.parts'.*empty/);
    // One empty part among others is only a blank line.
    assert.equal(
      translateGeminiEmbedRequest({ content: { parts: [{ text: '' }, { text: 'a' }] } }, 'm').input,
      '\na',
    );
    assert.match(
      refusal(() => translateGeminiEmbedRequest({ content: { parts: [{ text: 42 }] } }, 'm'))
        .message,
      /'content\.parts\[0\]\.text': a string is required/,
    );
    const item = { model: 'models/m', content: { parts: [{ text: 'x' }] } };
    assert.equal(
      (translateGeminiBatchEmbedRequest({ requests: Array(100).fill(item) }, 'm').input as [])
        .length,
      100,
    );
    const over = refusal(() =>
      translateGeminiBatchEmbedRequest({ requests: Array(101).fill(item) }, 'm'),
    );
    assert.equal(over.code, 400);
    assert.match(over.message, /'requests'.*at most 100 requests/);
  });
});

describe('canonical embeddings answers to Gemini', () => {
  it('answers embedContent with its vector and usage', () => {
    assert.deepEqual(toGeminiEmbedResponse(openAiList([0.5, -0.25]), USAGE), {
      embedding: { values: [0.5, -0.25] },
      usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 },
    });
  });

  it('answers batchEmbedContents in input order, whatever order the list came in', () => {
    const list = openAiList([1, 1], [2, 2], [3, 3]);
    list.data.reverse();
    assert.deepEqual(toGeminiBatchEmbedResponse(list, 3).embeddings, [
      { values: [1, 1] },
      { values: [2, 2] },
      { values: [3, 3] },
    ]);
  });

  it("decodes a backend's base64 vectors (little-endian float32s) into numbers", () => {
    const base64 = Buffer.from(new Float32Array([0.5, -1]).buffer).toString('base64');
    const list = {
      data: [
        { index: 1, embedding: [2] },
        { index: 0, embedding: base64 },
      ],
    };
    assert.deepEqual(toGeminiBatchEmbedResponse(list, 2).embeddings, [
      { values: [0.5, -1] },
      { values: [2] },
    ]);
  });

  it('reads base64 as float32s of the asked size, and refuses another width than float32', () => {
    const float32s = (...values: number[]) => {
      const bytes = Buffer.alloc(values.length * 4);
      values.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
      return bytes.toString('base64');
    };
    const list = (...embeddings: string[]) => ({
      data: embeddings.map((embedding, index) => ({ index, embedding })),
    });
    assert.deepEqual(toGeminiEmbedResponse(list(float32s(0.25, -2, 8)), undefined, 3), {
      embedding: { values: [0.25, -2, 8] },
    });
    // Four dimensions as float16 (vLLM's embed_dtype) are 8 bytes: two float32s' worth.
    const float16s = Buffer.from([0x00, 0x34, 0x00, 0xc0, 0x00, 0x48, 0x00, 0x3c]);
    const narrow = refusal(() =>
      toGeminiEmbedResponse(list(float16s.toString('base64')), undefined, 4),
    );
    assert.equal(narrow.code, 502);
    assert.match(narrow.message, /8 bytes: 2 float32s.*outputDimensionality make 4/);
    // Without an asked size, the vectors of one answer still have to be of one size.
    const uneven = refusal(() =>
      toGeminiBatchEmbedResponse(list(float32s(1, 2), float32s(1, 2, 3, 4)), 2),
    );
    assert.match(uneven.message, /16 bytes: 4 float32s.*other vectors make 2/);
    // Text that is not base64 would decode (Node skips what it cannot read) to other numbers.
    assert.equal(refusal(() => toGeminiEmbedResponse(list('AAAA!AAA'))).code, 502);
  });

  it('turns a list that does not fit the request into a 502', () => {
    for (const run of [
      () => toGeminiBatchEmbedResponse(openAiList([1]), 2),
      () => toGeminiEmbedResponse({ data: [{ index: 0, embedding: 'AAA=' }] }),
      () => toGeminiEmbedResponse({ data: [{ index: 0, embedding: [] }] }),
      () => toGeminiEmbedResponse({ data: [{ index: 0.5, embedding: [1] }] }),
      () => toGeminiEmbedResponse({}),
    ]) {
      try {
        run();
        assert.fail('expected a bad-answer error');
      } catch (error) {
        assert.ok(error instanceof DataPlaneError);
        assert.equal(error.code, DataPlaneErrorCode.UpstreamBadResponse);
      }
    }
  });
});
