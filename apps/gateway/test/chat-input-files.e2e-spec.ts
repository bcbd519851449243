// Chat completions' file parts by `file.file_id`, through the all-in-one gateway with the
// official OpenAI SDK, as the Responses API's input_file parts are: the id is the
// gateway's (from its Files API), and the backend gets its own id for the file (the one
// it holds), or the file's content when failover may send the request to another
// backend. Another caller's file, an unknown id, a provider's own id and a file of a
// purpose no model reads are refused, naming the part; a model with no backend that
// takes files is refused before any call; a batch line naming a file by id is refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { fileParts, FilesAndChatBackend } from './files-and-chat-backend';

/** One backend's model: a file sent to it goes by its own id. */
const SINGLE = 'gpt-docs';
/** Two backends (the one holding the file first): the file goes as content. */
const FAILOVER = 'gpt-failover';
/** An Anthropic backend only: it takes no files. */
const CLAUDE = 'claude-docs';

const PDF = Buffer.from('%PDF-1.4 a small document about the quarterly numbers');

/** Where the file part of `ask`'s request is. */
const PARAM = 'messages[0].content[1].file.file_id';

describe('chat completions file parts by file_id on the all-in-one gateway', () => {
  const openai = new FilesAndChatBackend();
  /** The failover model's second backend. */
  const spare = new FakeOpenAiUpstream('spare');
  let gateway: AppProcess;
  let alice: OpenAI;
  let bob: OpenAI;

  const clientFor = (user: string) =>
    new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: `sk-client-${user}`,
      maxRetries: 0,
      defaultHeaders: { 'x-user-id': user },
    });

  /** `user`'s upload of `data` for `model`, with `purpose`: its gateway id. */
  const upload = async (
    client: OpenAI,
    model: string,
    purpose: string,
    name = 'report.pdf',
    data = PDF,
  ) => {
    const file = await client.files.create(
      { file: await toFile(data, name), purpose: purpose as 'user_data' },
      { headers: { 'x-ai-gateway-model': model } },
    );
    assert.match(file.id, /^file-aigw_/);
    return file.id;
  };

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

  /** The error `call` failed with (it must fail). */
  const failure = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => assert.fail('the call should have been refused'),
      (thrown: unknown) => thrown,
    );
    assert.ok(error instanceof OpenAI.APIError, String(error));
    return error;
  };

  before(async () => {
    await Promise.all([openai.start(), spare.start()]);
    const dir = mkdtempSync(join(tmpdir(), 'aigw-chat-files-'));
    writeFileSync(
      join(dir, 'config.yaml'),
      `kind: AIGatewayRoute
metadata: {name: docs}
spec:
  backends:
  - {name: docs-openai, provider: openai, baseUrl: "${openai.baseUrl}", model: gpt-4.1, modelNameOverride: ${SINGLE}, auth: {apiKeyRef: {name: openai-key}}}
  - {name: failover-openai, priority: 0, provider: openai, baseUrl: "${openai.baseUrl}", model: gpt-4.1, modelNameOverride: ${FAILOVER}, auth: {apiKeyRef: {name: openai-key}}}
  - {name: failover-spare, priority: 1, provider: vllm, baseUrl: "${spare.baseUrl}", model: spare-model, modelNameOverride: ${FAILOVER}}
  - {name: claude, provider: anthropic, baseUrl: "http://127.0.0.1:9", model: claude-sonnet-4-5, modelNameOverride: ${CLAUDE}, auth: {apiKeyRef: {name: anthropic-key}}}
  userIdentification: {header: x-user-id}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend',
      AI_GATEWAY_SECRET_ANTHROPIC_KEY_APIKEY: 'sk-ant-backend',
    });
    alice = clientFor('alice');
    bob = clientFor('bob');
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([openai.stop(), spare.stop()]);
  });

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
