import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayRequest } from '@aigw/contracts/data-plane';
import type { ResolvedFile } from '../batches/file-inputs';
import type { DataPlaneError } from '@aigw/contracts/data-plane';
import { fileIdParams, withInputFiles, type InputFileResolver } from './input-files';
import { responsesDialect } from './responses-dialect';

/**
 * Resolves `file-aigw_N` to the backend's `up-N`, held at N thousand tokens, recording each
 * look-up's parameter.
 */
class Resolver implements InputFileResolver {
  readonly asked: { id: string; param: string; model: string }[] = [];
  async resolve(id: string, param: string, model: string): Promise<ResolvedFile> {
    this.asked.push({ id, param, model });
    const n = Number(id.replace('file-aigw_', ''));
    const file = { file_id: id.replace('file-aigw_', 'up-') };
    return { kind: 'id', file, heldTokens: n * 1000, heldPages: n };
  }
}

const requestOf = (messages: unknown[]) =>
  ({
    requestedModel: 'gpt-docs',
    body: { model: 'gpt-docs', messages },
  }) as unknown as GatewayRequest;

const filePart = (id: string, filename?: string) => ({
  type: 'file',
  file: { file_id: id, ...(filename && { filename }) },
});

describe('withInputFiles', () => {
  it('swaps each file id once for what the backend takes, keeping the client filename', async () => {
    const resolver = new Resolver();
    const request = requestOf([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Read' }, filePart('file-aigw_1', 'a.pdf')] },
      { role: 'user', content: [filePart('file-aigw_1'), filePart('file-aigw_2')] },
    ]);
    const clientBody = {
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'Read' },
            { type: 'input_file', file_id: 'file-aigw_1' },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'input_file', file_id: 'file-aigw_1' },
            { type: 'input_file', file_id: 'file-aigw_2' },
          ],
        },
      ],
    };
    const swapped = await withInputFiles(request, clientBody, {}, resolver, () => 'alice');
    assert.deepEqual(swapped.body.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Read' }, filePart('up-1', 'a.pdf')] },
      { role: 'user', content: [filePart('up-1'), filePart('up-2')] },
    ]);
    assert.deepEqual(resolver.asked, [
      { id: 'file-aigw_1', param: 'input[0].content[1].file_id', model: 'gpt-docs' },
      { id: 'file-aigw_2', param: 'input[1].content[1].file_id', model: 'gpt-docs' },
    ]);
    // Each file is held each time it is named (sent, and billed, as often): 1 + 1 + 2.
    assert.equal(swapped.heldFileTokens, 4000);
    assert.equal(swapped.heldFilePages, 4);
  });

  it('holds nothing more for a file sent as its content (the body shows its pages)', async () => {
    const content: InputFileResolver = {
      resolve: async () => ({
        kind: 'content',
        file: { file_data: 'data:application/pdf;base64,' },
      }),
    };
    const request = requestOf([{ role: 'user', content: [filePart('file-aigw_7')] }]);
    const swapped = await withInputFiles(request, {}, {}, content, () => 'alice');
    assert.equal(swapped.heldFileTokens, undefined);
  });

  it("names an earlier turn's file by the parameter that brought it back", async () => {
    for (const [clientBody, param] of [
      [{ previous_response_id: 'resp_1', input: 'more' }, 'previous_response_id'],
      [{ conversation: 'conv_1', input: 'more' }, 'conversation'],
    ] as const) {
      const resolver = new Resolver();
      const request = requestOf([{ role: 'user', content: [filePart('file-aigw_9')] }]);
      await withInputFiles(request, clientBody, {}, resolver, () => 'alice');
      assert.equal(resolver.asked[0].param, param);
    }
  });

  it('leaves a request without file ids as it is, asking nothing', async () => {
    const resolver = new Resolver();
    const request = requestOf([
      {
        role: 'user',
        content: [{ type: 'file', file: { file_data: 'data:text/plain;base64,aGk=' } }],
      },
    ]);
    assert.equal(await withInputFiles(request, {}, {}, resolver, () => 'alice'), request);
    assert.equal(resolver.asked.length, 0);
  });

  it('finds where each id first appears in the input, skipping other parts', () => {
    const params = fileIdParams({
      input: [
        'not an item',
        { type: 'function_call_output', output: 'x' },
        {
          role: 'user',
          content: [
            { type: 'input_image', file_id: 'img' },
            { type: 'input_file', file_id: 'f' },
          ],
        },
      ],
    });
    assert.deepEqual([...params], [['f', 'input[2].content[1].file_id']]);
  });

  it('without the Files API, refuses a file id naming the part, and takes file_data', () => {
    const canonical = responsesDialect().canonicalBody!;
    const withFile = (file: Record<string, string>) => ({
      model: 'gpt-docs',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'Read' },
            { type: 'input_file', ...file },
          ],
        },
      ],
    });
    assert.throws(
      () => canonical(withFile({ file_id: 'file-abc123' })),
      (error: DataPlaneError) =>
        error.httpStatus === 400 &&
        error.param === 'input[0].content[1].file_id' &&
        /does not serve the Files API/.test(error.message),
    );
    assert.ok(canonical(withFile({ file_data: 'data:application/pdf;base64,JVBERg==' })));
  });
});
