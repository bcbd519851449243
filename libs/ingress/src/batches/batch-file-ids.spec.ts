import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { batchLineFileId } from './batch-file-ids';
import { rewriteBatchInput } from './batch-jsonl';

type Line = { url: string; body: Record<string, unknown> };

const chatLine = (part: unknown) =>
  JSON.stringify({
    custom_id: 'a',
    method: 'POST',
    url: '/v1/chat/completions',
    body: {
      model: 'gpt-virtual',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Read' }, part] }],
    },
  });

const responsesLine = (part: unknown) =>
  JSON.stringify({
    custom_id: 'b',
    method: 'POST',
    url: '/v1/responses',
    body: { model: 'gpt-virtual', input: [{ role: 'user', content: [part] }] },
  });

describe('batch lines naming a file by id', () => {
  it('finds a chat file part’s file_id and a Responses input_file’s or input_image’s', () => {
    const chat = (part: unknown) => JSON.parse(chatLine(part)) as Line;
    const responses = (part: unknown) => JSON.parse(responsesLine(part)) as Line;
    const at = (line: Line) => batchLineFileId(line.url, line.body);
    assert.equal(
      at(chat({ type: 'file', file: { file_id: 'file-aigw_1' } })),
      'body.messages[0].content[1].file.file_id',
    );
    assert.equal(
      at(responses({ type: 'input_file', file_id: 'file-x' })),
      'body.input[0].content[0].file_id',
    );
    assert.equal(
      at(responses({ type: 'input_image', file_id: 'file-x' })),
      'body.input[0].content[0].file_id',
    );
    assert.equal(
      at(chat({ type: 'file', file: { file_data: 'data:text/plain;base64,aGk=' } })),
      undefined,
    );
    assert.equal(
      at(responses({ type: 'input_file', file_data: 'data:text/plain;base64,aGk=' })),
      undefined,
    );
    assert.equal(at(responses({ type: 'input_image', image_url: 'https://x/y.png' })), undefined);
  });

  it('refuses such a line with its number and where the id is, before anything is uploaded', () => {
    const inline = chatLine({ type: 'file', file: { file_data: 'data:text/plain;base64,aGk=' } });
    for (const [named, where] of [
      [
        chatLine({ type: 'file', file: { file_id: 'file-abc' } }),
        'body.messages[0].content[1].file.file_id',
      ],
      [
        responsesLine({ type: 'input_file', file_id: 'file-abc' }),
        'body.input[0].content[0].file_id',
      ],
    ] as const) {
      assert.throws(
        () => rewriteBatchInput(`${inline}\n${named}\n`, 'gpt-virtual', 'up'),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.httpStatus === 400 &&
          error.param === 'file' &&
          error.message.startsWith(
            `Line 2 of the batch input file names a file by id at ${where}:`,
          ) &&
          /'file_data'/.test(error.message),
      );
    }
    // Content inline goes up as it came (its model rewritten).
    const out = JSON.parse(rewriteBatchInput(inline, 'gpt-virtual', 'up'));
    assert.equal(out.body.model, 'up');
    assert.deepEqual(out.body.messages, JSON.parse(inline).body.messages);
  });
});
