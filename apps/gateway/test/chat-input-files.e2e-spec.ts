// Chat completions' file parts by `file.file_id`, through the all-in-one gateway with the
// official OpenAI SDK, as the Responses API's input_file parts are: the id is the
// gateway's (from its Files API), and the backend gets its own id for the file (the one
// it holds), or the file's content when failover may send the request to another
// backend. Another caller's file, an unknown id, a provider's own id and a file of a
// purpose no model reads are refused, naming the part; a model with no backend that
// takes files is refused before any call; a batch line naming a file by id is refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type OpenAI from 'openai';
import { fileParts } from './files-and-chat-backend';
import {
  CLAUDE,
  failure,
  FAILOVER,
  FileInputsGateway,
  PDF,
  SINGLE,
  upload,
} from './file-inputs-gateway';

/** Where the file part of `ask`'s request is. */
const PARAM = 'messages[0].content[1].file.file_id';

describe('chat completions file parts by file_id on the all-in-one gateway', () => {
  const docs = new FileInputsGateway();
  const { openai, spare } = docs;
  let alice: OpenAI;
  let bob: OpenAI;

  const ask = (client: OpenAI, model: string, file: { file_id: string; filename?: string }) =>
    client.chat.completions.create({
      model,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What does the document say?' },
            { type: 'file', file },
          ],
        },
      ],
    });

  before(async () => {
    await docs.start();
    alice = docs.client('alice');
    bob = docs.client('bob');
  });

  after(() => docs.stop());

  it("sends the backend its own id for the caller's file, keeping the client's filename", async () => {
    const fileId = await upload(alice, SINGLE, 'user_data');
    const backendId = [...openai.files.files.keys()].at(-1)!;
    const before = openai.chat.calls.length;

    const answer = await ask(alice, SINGLE, { file_id: fileId });
    assert.equal(answer.object, 'chat.completion');
    const sent = openai.chatBodies()[before];
    assert.deepEqual(fileParts(sent), [{ type: 'file', file: { file_id: backendId } }]);
    assert.ok(!JSON.stringify(sent).includes('file-aigw_'), 'no gateway id reaches the backend');

    await ask(alice, SINGLE, { file_id: fileId, filename: 'q3.pdf' });
    assert.deepEqual(fileParts(openai.chatBodies()[before + 1]), [
      { type: 'file', file: { file_id: backendId, filename: 'q3.pdf' } },
    ]);
  });

  it("refuses another caller's file, an unknown id and a provider's own id with a 404 naming the part", async () => {
    const fileId = await upload(alice, SINGLE, 'user_data');
    const backendId = [...openai.files.files.keys()].at(-1)!;
    const before = openai.chat.calls.length;
    for (const [client, id] of [
      [bob, fileId],
      [alice, `${fileId.slice(0, -4)}AAAA`],
      [alice, backendId],
    ] as const) {
      const error = await failure(ask(client, SINGLE, { file_id: id }));
      assert.equal(error.status, 404, id);
      assert.equal(error.param, PARAM);
      assert.equal(error.type, 'invalid_request_error');
      assert.match(error.message, /No such File object/);
    }
    // Named where the part is, in a later message too.
    const error = await failure(
      bob.chat.completions.create({
        model: SINGLE,
        messages: [
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'ok' },
          {
            role: 'user',
            content: [{ type: 'file', file: { file_id: fileId } }],
          },
        ],
      }),
    );
    assert.equal(error.param, 'messages[2].content[0].file.file_id');
    assert.equal(openai.chat.calls.length, before, 'no refused request reached the backend');
  });

  it('refuses a file of a purpose no model reads as input, and takes an assistants file', async () => {
    const tuning = await upload(alice, SINGLE, 'fine-tune', 'train.jsonl');
    const error = await failure(ask(alice, SINGLE, { file_id: tuning }));
    assert.equal(error.status, 400);
    assert.equal(error.param, PARAM);
    assert.match(error.message, /purpose 'fine-tune'.*'user_data'/);

    const assistants = await upload(alice, SINGLE, 'assistants');
    const backendId = [...openai.files.files.keys()].at(-1)!;
    await ask(alice, SINGLE, { file_id: assistants });
    assert.deepEqual(fileParts(openai.chatBodies().at(-1)!), [
      { type: 'file', file: { file_id: backendId } },
    ]);
  });

  it('sends the content when failover may serve the request elsewhere, to whichever serves it', async () => {
    const fileId = await upload(alice, FAILOVER, 'user_data');
    const inline = {
      type: 'file',
      file: {
        file_data: `data:application/pdf;base64,${PDF.toString('base64')}`,
        filename: 'report.pdf',
      },
    };
    await ask(alice, FAILOVER, { file_id: fileId });
    assert.deepEqual(fileParts(openai.chatBodies().at(-1)!), [inline]);

    // The holding backend down: the spare gets the same content, never an id it lacks.
    openai.chat.next({ kind: 'status', status: 503 });
    const failedOver = await ask(alice, FAILOVER, { file_id: fileId });
    assert.equal(failedOver.object, 'chat.completion');
    assert.deepEqual(fileParts(spare.calls.at(-1)!.body), [inline]);
  });

  it('refuses a file for a model with no backend that takes files, before any call', async () => {
    const fileId = await upload(alice, SINGLE, 'user_data');
    const error = await failure(ask(alice, CLAUDE, { file_id: fileId }));
    assert.equal(error.status, 400);
    assert.equal(error.param, PARAM);
    assert.match(error.message, /no OpenAI or Azure OpenAI backend/);
  });

  it('refuses a batch input line whose chat file part names a file by id, before uploading it', async () => {
    const fileId = await upload(alice, SINGLE, 'user_data');
    const held = openai.files.files.size;
    const line = (file: Record<string, string>) =>
      JSON.stringify({
        custom_id: 'r1',
        method: 'POST',
        url: '/v1/chat/completions',
        body: {
          model: SINGLE,
          messages: [{ role: 'user', content: [{ type: 'file', file }] }],
        },
      });
    const error = await failure(
      upload(alice, SINGLE, 'batch', 'batch.jsonl', Buffer.from(`${line({ file_id: fileId })}\n`)),
    );
    assert.equal(error.status, 400);
    assert.equal(error.param, 'file');
    assert.match(
      (error.error as { message: string }).message,
      /^Line 1 of the batch input file names a file by id at body\.messages\[0\]\.content\[0\]\.file\.file_id: .*'file_data'/,
    );
    assert.equal(openai.files.files.size, held, 'nothing was uploaded');

    // The same file's content inline is taken.
    const data = `data:application/pdf;base64,${PDF.toString('base64')}`;
    await upload(
      alice,
      SINGLE,
      'batch',
      'batch.jsonl',
      Buffer.from(`${line({ file_data: data })}\n`),
    );
    assert.equal(openai.files.files.size, held + 1);
  });
});
