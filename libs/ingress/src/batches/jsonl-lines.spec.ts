import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { downloadedLine, restoreBatchModels } from './batch-jsonl';
import { JsonlLineTransform, LineSplitter, forEachLine } from './jsonl-lines';

const output = (id: string, model: string, content: string) =>
  JSON.stringify({
    id: `batch_req_${id}`,
    custom_id: id,
    response: { status_code: 200, body: { model, choices: [{ message: { content } }] } },
  });

/** Output lines with multi-byte text, a blank line, CRLF and a last line without newline. */
const FILE = Buffer.from(
  `${output('a', 'up-2025', 'héllo wörld')}\n` +
    `${output('b', 'up-2025', '日本語 🙂 emoji')}\r\n` +
    `\n` +
    `not json ü\n` +
    `${output('c', 'up-2025', 'last')}`,
);

async function through(chunks: Buffer[], transform: JsonlLineTransform): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks, { objectMode: false }),
    transform,
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        out.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(out);
}

/** The file with every line's model restored, each line's ending as it came. */
function expected(file: Buffer): string {
  return file
    .toString('utf8')
    .split(/(\r?\n)/)
    .map((part, at) =>
      at % 2 === 1 || part.trim() === '' ? part : restoreBatchModels(part, 'gpt-virtual'),
    )
    .join('');
}

/** Lines restored to the client's model name `model` (no backend identity to hide). */
const namedAs = (model: string) => ({ sentModel: '', requestedModel: model });

describe('the batch file line transform', () => {
  it('restores model names line by line whatever byte the chunks are cut at', async () => {
    const want = expected(FILE);
    assert.ok(want.includes('"model":"gpt-virtual"') && !want.includes('up-2025'));
    assert.ok(want.includes('\r\n\nnot json ü\n'), 'blank, CRLF and non-JSON lines kept');
    for (let cut = 0; cut <= FILE.length; cut++) {
      const chunks = [FILE.subarray(0, cut), FILE.subarray(cut)];
      const got = await through(
        chunks,
        new JsonlLineTransform(downloadedLine(namedAs('gpt-virtual'))),
      );
      assert.equal(got.toString('utf8'), want, `cut at byte ${cut}`);
    }
    const bytes = [...FILE].map((byte) => Buffer.from([byte]));
    const got = await through(
      bytes,
      new JsonlLineTransform(downloadedLine(namedAs('gpt-virtual'))),
    );
    assert.equal(got.toString('utf8'), want, 'one byte at a time');
  });

  it('gives an LF file the same bytes the whole-text restore gives', async () => {
    const text = `${output('a', 'up', 'x')}\n\n${output('b', 'up', 'ÿ')}\n`;
    const got = await through(
      [Buffer.from(text)],
      new JsonlLineTransform(downloadedLine(namedAs('v'))),
    );
    assert.equal(got.toString('utf8'), restoreBatchModels(text, 'v'));
  });

  it('passes lines it does not change as the bytes they came as (invalid UTF-8 too)', async () => {
    const raw = Buffer.concat([
      Buffer.from('{"a":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}\n'),
    ]);
    const got = await through([raw], new JsonlLineTransform(downloadedLine(namedAs('v'))));
    assert.deepEqual(got, raw);
  });

  it('fails on a line longer than the cap, before or after the first bytes went out', async () => {
    const early = new JsonlLineTransform(() => undefined, { maxLineBytes: 16 });
    const source = Readable.from([Buffer.from('x'.repeat(10)), Buffer.from('y'.repeat(10))], {
      objectMode: false,
    });
    const ended = pipeline(source, early, new PassThrough().resume());
    await assert.rejects(early.firstOutput(), /longer than 16 bytes/);
    await assert.rejects(ended, (error: unknown) => {
      assert.ok(error instanceof DataPlaneError);
      assert.equal(error.httpStatus, 502);
      return true;
    });

    const late = new JsonlLineTransform(() => undefined, { maxLineBytes: 16 });
    await assert.rejects(
      through([Buffer.from('short\n'), Buffer.from('z'.repeat(17) + '\n')], late),
      /longer than 16 bytes/,
    );
    await late.firstOutput(); // the first line had gone out
  });

  it('reads no further ahead than its reader takes (backpressure)', async () => {
    let produced = 0;
    const line = Buffer.from(`${'a'.repeat(1023)}\n`);
    const source = new Readable({
      read() {
        produced += line.length;
        this.push(line);
        if (produced >= 64 * 1024 * 1024) this.push(null);
      },
    });
    const lines = new JsonlLineTransform(() => undefined);
    source.pipe(lines);
    await lines.firstOutput();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Nobody reads: the source stops after a few buffers' worth, not its 64 MB.
    assert.ok(produced < 256 * 1024, `read ${produced} bytes ahead`);
    let seen = 0;
    for await (const chunk of lines) seen += (chunk as Buffer).length;
    assert.equal(seen, produced);
  });

  it('stops reading its source when its reader goes away', async () => {
    const source = new Readable({
      read() {
        this.push(Buffer.from('{"x":1}\n'));
      },
    });
    let ends = 0;
    const lines = new JsonlLineTransform(() => undefined, { onEnd: () => ends++ });
    const piped = pipeline(source, lines).catch((error: unknown) => error);
    await lines.firstOutput();
    lines.destroy();
    assert.match(String(await piped), /Premature close/);
    assert.ok(source.destroyed, 'the source was let go of');
    assert.equal(ends, 0);
  });

  it('runs onEnd once every line was seen, and never for a stream cut short', async () => {
    let ends = 0;
    await through(
      [Buffer.from('{"a":1}\n{"a":2}')],
      new JsonlLineTransform(() => undefined, {
        onEnd: () => ends++,
      }),
    );
    assert.equal(ends, 1);
    const cut = new JsonlLineTransform(() => undefined, { onEnd: () => ends++ });
    cut.on('error', () => undefined);
    cut.write(Buffer.from('{"a":1}\n'));
    cut.destroy(new Error('client went away'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(ends, 1);
  });
});

describe('LineSplitter and forEachLine', () => {
  it('hands each line with its own ending, the unfinished one kept between chunks', () => {
    const splitter = new LineSplitter();
    const seen: [string, string][] = [];
    const each = (content: Buffer, ending: string) => seen.push([content.toString(), ending]);
    splitter.push(Buffer.from('ab'), each);
    splitter.push(Buffer.from('c\r'), each);
    splitter.push(Buffer.from('\nd\n\ne'), each);
    splitter.end(each);
    assert.deepEqual(seen, [
      ['abc', '\r\n'],
      ['d', '\n'],
      ['', '\n'],
      ['e', ''],
    ]);
  });

  it('gives forEachLine the non-blank lines, decoded whole', async () => {
    const lines: string[] = [];
    const bytes = Buffer.from('é\n \n🙂\r\nlast');
    await forEachLine(Readable.from([...bytes].map((byte) => Buffer.from([byte]))), (line) =>
      lines.push(line),
    );
    assert.deepEqual(lines, ['é', '🙂', 'last']);
  });
});
