import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { batchInputLineRewriter, rewriteBatchInput, rewriteBatchInputBytes } from './batch-jsonl';
import { rewrittenBatchInput } from './batch-input-stream';

const line = (id: string, model = 'gpt-v', extra = '') =>
  `{"custom_id":"${id}", "method":"POST","url":"/v1/chat/completions","body":{"model":"${model}","messages":[{"role":"user","content":"${id}é🙂${extra}"}]}}`;

async function* inChunks(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function streamed(bytes: Buffer, size: number, maxLineBytes?: number) {
  const parts: Buffer[] = [];
  let ended = 0;
  const rewrite = batchInputLineRewriter('gpt-v', 'upstream-gpt');
  for await (const part of rewrittenBatchInput(
    inChunks(bytes, size),
    rewrite,
    () => ended++,
    maxLineBytes,
  )) {
    parts.push(part);
  }
  return { bytes: Buffer.concat(parts), ended };
}

describe('rewrittenBatchInput', () => {
  const files = {
    lf: `${line('a')}\n${line('b')}\n`,
    crlfAndBlank: `${line('a')}\r\n\r\n  \n${line('b')}\r\n`,
    bomNoFinalNewline: `\uFEFF${line('a')}\n${line('b')}`,
    lastLineCr: `${line('a')}\n${line('b')}\r`,
  };

  for (const [name, text] of Object.entries(files)) {
    it(`writes what the whole-file rewrite writes, however cut (${name})`, async () => {
      const bytes = Buffer.from(text);
      const whole = Buffer.concat(rewriteBatchInputBytes(bytes, 'gpt-v', 'upstream-gpt'));
      assert.match(whole.toString(), /"model":"upstream-gpt"/);
      // The text reading, written apart: the same file.
      assert.equal(whole.toString(), rewriteBatchInput(text, 'gpt-v', 'upstream-gpt'));
      for (const size of [1, 3, 17, 256, bytes.length]) {
        const out = await streamed(bytes, size);
        assert.ok(out.bytes.equals(whole), `${name} in chunks of ${size}`);
        assert.equal(out.ended, 1);
      }
    });
  }

  it('refuses a bad line with its number, and never ends', async () => {
    const bytes = Buffer.from(`${line('a')}\n\n${line('b', 'gpt-other')}\n${line('c')}\n`);
    let ended = 0;
    await assert.rejects(
      async () => {
        const rewrite = batchInputLineRewriter('gpt-v', 'upstream-gpt');
        for await (const part of rewrittenBatchInput(inChunks(bytes, 10), rewrite, () => ended++))
          void part;
      },
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        /^Line 3 .*'gpt-other'/.test(error.message),
    );
    assert.equal(ended, 0);
  });

  it('refuses a line over the per-line limit with a 400 on the file, naming the line', async () => {
    const long = Buffer.from(`${line('a')}\n\n${line('b', 'gpt-v', 'x'.repeat(2000))}\n`);
    await assert.rejects(
      streamed(long, 64, 1024),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        error.param === 'file' &&
        /^Line 3 of the batch input file is longer than 1024 bytes/.test(error.message),
    );
    // The same lines under the limit pass.
    assert.equal((await streamed(long, 64, 4096)).ended, 1);
  });
});
