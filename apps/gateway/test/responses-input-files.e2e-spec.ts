// The Responses API's input_file parts by `file_id`, through the all-in-one gateway with the
// official OpenAI SDK: the id is the gateway's (from its Files API), and the backend gets
// its own id for the file (the one it holds), or the file's content when failover may send
// the request to another backend. Another caller's file, an unknown id, a provider's own
// id and a file of a purpose no model reads are refused, naming the part; a model with no
// backend that takes files is refused before any call.
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

type Json = Record<string, unknown>;

describe('Responses API input_file by file_id on the all-in-one gateway', () => {
  const docs = new FileInputsGateway();
  const { openai, spare } = docs;
  let alice: OpenAI;
  let bob: OpenAI;

  const ask = (client: OpenAI, model: string, fileId: string, more: Json = {}) =>
    client.responses.create({
      model,
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What does the document say?' },
            { type: 'input_file', file_id: fileId },
          ],
        },
      ],
      ...more,
    });

  before(async () => {
    await docs.start();
    alice = docs.client('alice');
    bob = docs.client('bob');
  });

  after(() => docs.stop());

  it("sends the backend its own id for the caller's file, in this turn and a chained one", async () => {
    const fileId = await upload(alice, SINGLE, 'user_data');
    const backendId = [...openai.files.files.keys()].at(-1)!;
    const before = openai.chat.calls.length;

    const first = await ask(alice, SINGLE, fileId);
    assert.equal(first.status, 'completed');
    const sent = openai.chatBodies()[before];
    assert.deepEqual(fileParts(sent), [{ type: 'file', file: { file_id: backendId } }]);
    assert.ok(!JSON.stringify(sent).includes('file-aigw_'), 'no gateway id reaches the backend');

    // The earlier turn's file comes back with it, mapped again.
    const second = await alice.responses.create({
      model: SINGLE,
      previous_response_id: first.id,
      input: 'And in one word?',
    });
    assert.equal(second.status, 'completed');
    const chained = openai.chatBodies()[before + 1];
    assert.ok(JSON.stringify(chained).includes(`"file_id":"${backendId}"`));
    assert.ok(!JSON.stringify(chained).includes('file-aigw_'));
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
      const error = await failure(ask(client, SINGLE, id));
      assert.equal(error.status, 404, id);
      assert.equal(error.param, 'input[0].content[1].file_id');
      assert.equal(error.type, 'invalid_request_error');
      assert.match(error.message, /No such File object/);
    }
    // Named in the same place as OpenAI names it, wherever the part is.
    const error = await failure(
      bob.responses.create({
        model: SINGLE,
        input: [
          { role: 'user', content: 'first' },
          { role: 'user', content: [{ type: 'input_file', file_id: fileId }] },
        ],
      }),
    );
    assert.equal(error.param, 'input[1].content[0].file_id');
    assert.equal(openai.chat.calls.length, before, 'no refused request reached the backend');
  });

  it('refuses a file of a purpose no model reads as input, and takes an assistants file', async () => {
    const tuning = await upload(alice, SINGLE, 'fine-tune', 'train.jsonl');
    const error = await failure(ask(alice, SINGLE, tuning));
    assert.equal(error.status, 400);
    assert.equal(error.param, 'input[0].content[1].file_id');
    assert.match(error.message, /purpose 'fine-tune'.*'user_data'/);

    const assistants = await upload(alice, SINGLE, 'assistants');
    const backendId = [...openai.files.files.keys()].at(-1)!;
    const answer = await ask(alice, SINGLE, assistants);
    assert.equal(answer.status, 'completed');
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
    const answer = await ask(alice, FAILOVER, fileId);
    assert.equal(answer.status, 'completed');
    assert.deepEqual(fileParts(openai.chatBodies().at(-1)!), [inline]);

    // The holding backend down: the spare gets the same content, never an id it lacks.
    openai.chat.next({ kind: 'status', status: 503 });
    const failedOver = await ask(alice, FAILOVER, fileId);
    assert.equal(failedOver.status, 'completed');
    assert.deepEqual(fileParts(spare.calls.at(-1)!.body), [inline]);
  });

  it('refuses a file for a model with no backend that takes files, before any call', async () => {
    const fileId = await upload(alice, SINGLE, 'user_data');
    const error = await failure(ask(alice, CLAUDE, fileId));
    assert.equal(error.status, 400);
    assert.equal(error.param, 'input[0].content[1].file_id');
    assert.match(error.message, /no OpenAI or Azure OpenAI backend/);
  });
});
