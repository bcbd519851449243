import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DataPlaneError, GatewayRequest } from '@aigw/contracts/data-plane';
import type { ResolvedFile } from '../batches/file-inputs';
import type { Headers, Who } from '../batches/held-api';
import type { InputFileResolver } from '../responses/input-files';
import { chatDialect, chatFileIdParams } from './chat-dialect';

/** Resolves `file-aigw_N` to the backend's `up-N`, recording each look-up. */
class Resolver implements InputFileResolver {
  readonly asked: { id: string; param: string; model: string; user?: string }[] = [];
  async resolve(
    id: string,
    param: string,
    model: string,
    headers: Headers,
    who: Who,
  ): Promise<ResolvedFile> {
    this.asked.push({ id, param, model, user: await who(model, headers) });
    if (id.startsWith('file-')) {
      return { kind: 'id', file: { file_id: id.replace('file-aigw_', 'up-') }, heldTokens: 0 };
    }
    throw new Error(`no such file ${id}`);
  }
}

const filePart = (file: Record<string, string>) => ({ type: 'file', file });

const chatBody = (...parts: unknown[]) => ({
  model: 'gpt-docs',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text: 'Read' }, ...parts] },
  ],
});

const requestOf = (body: { model: string; messages: unknown[] }) =>
  ({ requestedModel: body.model, body }) as unknown as GatewayRequest;

/** Identifies the caller by its x-user-id header, as the model's route would. */
const callers = {
  ownerKeyFor: (model: string, headers: Headers) => `${String(headers['x-user-id'])}@${model}`,
};

describe('chat file parts by file_id', () => {
  it('finds where each id first appears, as messages[i].content[j].file.file_id', () => {
    const params = chatFileIdParams({
      messages: [
        'not a message',
        { role: 'user', content: 'plain text' },
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'https://x/y.png' } },
            filePart({ file_data: 'data:application/pdf;base64,JVBERg==' }),
            filePart({ file_id: 'file-aigw_1' }),
            { type: 'file', file_id: 'not-in-file' },
          ],
        },
        { role: 'user', content: [filePart({ file_id: 'file-aigw_1' })] },
      ],
    });
    assert.deepEqual([...params], [['file-aigw_1', 'messages[2].content[2].file.file_id']]);
  });

  it("swaps each id for what the backend takes, the caller identified by the model's route", async () => {
    const resolver = new Resolver();
    const dialect = chatDialect({ files: resolver, callers });
    const body = chatBody(
      filePart({ file_id: 'file-aigw_1', filename: 'mine.pdf' }),
      filePart({ file_id: 'file-aigw_2' }),
      filePart({ file_id: 'file-aigw_1' }),
    );
    const swapped = await dialect.withState!(requestOf(body), body, { 'x-user-id': 'alice' });
    assert.deepEqual(swapped.body.messages, [
      { role: 'system', content: 'Be brief.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Read' },
          filePart({ file_id: 'up-1', filename: 'mine.pdf' }),
          filePart({ file_id: 'up-2' }),
          filePart({ file_id: 'up-1' }),
        ],
      },
    ]);
    assert.deepEqual(resolver.asked, [
      {
        id: 'file-aigw_1',
        param: 'messages[1].content[1].file.file_id',
        model: 'gpt-docs',
        user: 'alice@gpt-docs',
      },
      {
        id: 'file-aigw_2',
        param: 'messages[1].content[2].file.file_id',
        model: 'gpt-docs',
        user: 'alice@gpt-docs',
      },
    ]);
  });

  it('passes a refusal on, and asks nothing of a request without file ids', async () => {
    const resolver = new Resolver();
    const dialect = chatDialect({ files: resolver, callers });
    const refused = chatBody(filePart({ file_id: 'provider-own-id' }));
    await assert.rejects(
      Promise.resolve(dialect.withState!(requestOf(refused), refused, {})),
      /no such file provider-own-id/,
    );
    const inline = chatBody(filePart({ file_data: 'data:application/pdf;base64,JVBERg==' }));
    const request = requestOf(inline);
    assert.equal(await dialect.withState!(request, inline, {}), request);
    assert.equal(resolver.asked.length, 1);
  });

  it('without the Files API, refuses a file id naming the part, and takes file_data', () => {
    const dialect = chatDialect();
    assert.equal(dialect.withState, undefined);
    const canonical = dialect.canonicalBody!;
    assert.throws(
      () => canonical(chatBody(filePart({ file_id: 'file-abc123' }))),
      (error: DataPlaneError) =>
        error.httpStatus === 400 &&
        error.param === 'messages[1].content[1].file.file_id' &&
        /does not serve the Files API/.test(error.message),
    );
    const inline = chatBody(filePart({ file_data: 'data:application/pdf;base64,JVBERg==' }));
    assert.equal(canonical(inline), inline);
  });
});
