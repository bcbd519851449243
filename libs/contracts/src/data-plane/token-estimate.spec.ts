import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { cpuMillis } from '../testing/cpu-millis';
import {
  countPromptTokens,
  estimatePromptTokensUpperBound,
  estimateTokens,
  fieldText,
  promptText,
} from './token-estimate';

const chat = (content: string, tools?: unknown) => ({
  messages: [{ role: 'user', content }],
  ...(tools === undefined ? {} : { tools }),
});
// one message: 4 tokens of framing, 3 to prime the reply
const FRAMING = 7;

describe('prompt token estimates', () => {
  it('bounds a short prompt by its UTF-8 length, never below the tokenizer count', () => {
    for (const text of [
      'hi',
      'The quick brown fox jumps over the lazy dog.',
      'héllo wörld ✓ 日本',
    ]) {
      const bound = estimatePromptTokensUpperBound(chat(text));
      assert.equal(bound, Buffer.byteLength(text) + FRAMING);
      assert.ok(bound >= countPromptTokens(chat(text)));
    }
  });

  it('tokenizes a long prompt rather than reserving a token per byte', () => {
    const long = 'The quick brown fox jumps over the lazy dog. '.repeat(200); // 9,000 bytes
    const bound = estimatePromptTokensUpperBound(chat(long));
    assert.equal(bound, estimateTokens(long) + FRAMING);
    assert.ok(bound < long.length / 3, `got ${bound}`);
  });

  it('counts multi-byte text by bytes, not UTF-16 units, at the short/long boundary', () => {
    const text = '日'.repeat(400); // 400 UTF-16 units, 1,200 bytes: past the byte rule
    assert.equal(estimatePromptTokensUpperBound(chat(text)), estimateTokens(text) + FRAMING);
  });

  it('adds tool definitions to both', () => {
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: {} } }];
    assert.ok(
      estimatePromptTokensUpperBound(chat('hi', tools)) >
        estimatePromptTokensUpperBound(chat('hi')),
    );
    assert.ok(countPromptTokens(chat('hi', tools)) > countPromptTokens(chat('hi')));
  });

  it('counts each image part at what an image may cost, not by its base64', () => {
    const image = {
      type: 'image_url',
      image_url: { url: `data:image/png;base64,${'A'.repeat(10_000)}` },
    };
    const body = {
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'hi' }, image] },
        { role: 'assistant', content: 'a cat' },
        { role: 'user', content: [image, { type: 'text', text: 'and this?' }] },
      ],
    };
    const textOnly = {
      messages: body.messages.map((message) => ({
        ...message,
        content: Array.isArray(message.content)
          ? message.content.filter((part) => part.type === 'text')
          : message.content,
      })),
    };
    assert.equal(
      estimatePromptTokensUpperBound(body),
      estimatePromptTokensUpperBound(textOnly) + 2 * 1_600,
    );
    assert.equal(countPromptTokens(body), countPromptTokens(textOnly) + 2 * 1_600);
  });

  it('counts an inline PDF by its pages, each at what a page may cost, not by its base64', () => {
    const pages = Array.from({ length: 3 }, () => '<< /Type /Page /Parent 2 0 R >>').join('\n');
    const pdf = Buffer.from(`%PDF-1.4\n<< /Type /Pages /Count 3 >>\n${pages}\n%%EOF`).toString(
      'base64',
    );
    const document = {
      type: 'file',
      file: { file_data: `data:application/pdf;base64,${pdf}`, filename: 'report.pdf' },
    };
    const body = {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Summarise' }, document] }],
    };
    const textOnly = {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Summarise' }] }],
    };
    // 3,000 tokens of text and an image (1,600) a page.
    assert.equal(countPromptTokens(body), countPromptTokens(textOnly) + 3 * 4_600);
    assert.equal(
      estimatePromptTokensUpperBound(body),
      estimatePromptTokensUpperBound(textOnly) + 3 * 4_600,
    );
  });

  it("reads a prompt's PDFs within one allowance, so many small deflate bombs cost little", () => {
    // Each file under its own 16 MiB of inflating (5 streams of 4 MiB of zeros, 20 KiB
    // deflated): 100 of them, a 3 MB request, held the event loop for seconds.
    const stream = Buffer.concat([
      Buffer.from('<</Type/ObjStm/Filter/FlateDecode>>stream\n', 'latin1'),
      deflateSync(Buffer.alloc(4 * 1024 * 1024)),
      Buffer.from('\nendstream\n', 'latin1'),
    ]);
    const bomb = Buffer.concat([Buffer.from('%PDF-1.5\n'), ...Array(5).fill(stream)]);
    const part = (pdf: Buffer) => ({
      type: 'file',
      file: { file_data: `data:application/pdf;base64,${pdf.toString('base64')}` },
    });
    const body = {
      messages: [{ role: 'user', content: Array.from({ length: 100 }, () => part(bomb)) }],
    };
    const { result: tokens, ms } = cpuMillis(
      () => countPromptTokens(body) + estimatePromptTokensUpperBound(body),
    );
    assert.ok(tokens > 0);
    assert.ok(ms < 1_500, `took ${Math.round(ms)} ms of CPU`);
  });

  it('counts by tokenizer for count_tokens', () => {
    assert.equal(countPromptTokens(chat('hello world')), 2 + FRAMING);
  });

  it('counts a prompt of token ids one token an id, in a list or lists of them', () => {
    const ids = Array.from({ length: 300 }, (_, index) => index);
    for (const body of [
      { input: ids },
      { input: [ids.slice(0, 100), ids.slice(100)] },
      { prompt: ids },
    ]) {
      assert.equal(estimatePromptTokensUpperBound(body), 300, JSON.stringify(body).slice(0, 40));
      assert.equal(countPromptTokens(body), 300);
    }
    // Text beside ids (a decoy field) counts as text.
    assert.equal(countPromptTokens({ input: ids, prompt: 'hello world' }), 302);
  });
});

describe('the text of a prompt', () => {
  it('holds message content, text parts, and the arguments of earlier tool calls', () => {
    const body = {
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'look it up' }] },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'c1', type: 'function', function: { name: 'f', arguments: '{"q":"one"}' } },
            null,
            { id: 'c2', type: 'function' },
          ],
        },
        {
          role: 'assistant',
          content: null,
          function_call: { name: 'g', arguments: '{"q":"two"}' },
        },
        { role: 'tool', tool_call_id: 'c1', content: 'found' },
      ],
    };
    assert.equal(
      promptText(body),
      ['be brief', 'look it up', '{"q":"one"}', '{"q":"two"}', 'found'].join('\n'),
    );
  });

  it('holds arguments sent as a JSON object (as vLLM and Ollama take them), as their JSON', () => {
    // The translating adapters send such arguments on: unread here, a prompt rule's block
    // pattern and the prompt's token estimate would miss what the backend is sent.
    const call = { id: 'c1', type: 'function', function: { name: 'f', arguments: { q: 'one' } } };
    const body = { messages: [{ role: 'assistant', content: null, tool_calls: [call] }] };
    assert.equal(promptText(body), '{"q":"one"}');
  });
});

describe('estimateTokens on long text', () => {
  // gpt-tokenizer's own count of the whole text, the figure estimates are held to.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { countTokens } = require('gpt-tokenizer/encoding/cl100k_base') as {
    countTokens: (text: string, options: { disallowedSpecial: Set<string> }) => number;
  };
  const exact = (text: string) => countTokens(text, { disallowedSpecial: new Set() });
  const prose = Array.from(
    { length: 3_000 },
    (_, i) => ['The', 'gateway', 'counts', 'tokens,', 'budgets', 'and', 'costs.'][i % 7],
  ).join(' ');

  it('counts prose counted in pieces as the whole text counts', () => {
    const text = prose.slice(0, 15_000);
    assert.equal(estimateTokens(text), exact(text));
  });

  it('scales samples of a text past 16 KiB to within a few percent', () => {
    const text = prose.repeat(3);
    const ratio = estimateTokens(text) / exact(text);
    assert.ok(ratio > 0.97 && ratio < 1.03, String(ratio));
  });

  it('counts a long run without a break (the quadratic case) close to its real count', () => {
    const run = 'abcdefghij'.repeat(1_000); // 10,000 letters, one run to the tokenizer
    const ratio = estimateTokens(run) / exact(run);
    assert.ok(ratio >= 1 && ratio < 1.05, String(ratio));
  });
});

describe('promptText', () => {
  it('reads every text field a backend could read, whatever the operation', () => {
    assert.equal(promptText({ input: 'one', prompt: 'two' }), 'two\none');
    assert.equal(
      promptText({
        messages: [{ role: 'user', content: 'a' }],
        suffix: 'b',
        query: 'c',
        documents: [{ text: 'd' }],
      }),
      'a\nb\nc\nd',
    );
    assert.equal(fieldText([{ type: 'text', text: 'x' }, 'y']), 'x\ny');
  });
});
