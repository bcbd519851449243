// A frame spread over many network reads (a large event: a partial image, a long text in
// one chunk) is copied into one buffer once, when its newline comes. Copying what was held
// onto each new read made the split services' reading quadratic: a 48 MB frame in 64 KB
// reads copied ~18 GB and held the event loop ~17 s.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { frameLines } from './stream-frames';

async function* reads(...pieces: Buffer[]): AsyncGenerator<Buffer> {
  yield* pieces;
}

/** The frames read from `pieces`, and the bytes Buffer.concat copied meanwhile. */
async function framesAndCopies(pieces: Buffer[]): Promise<{ frames: string[]; copied: number }> {
  const concat = Buffer.concat.bind(Buffer);
  let copied = 0;
  const spy = mock.method(Buffer, 'concat', (list: readonly Uint8Array[], totalLength?: number) => {
    const joined = concat(list, totalLength);
    copied += joined.length;
    return joined;
  });
  try {
    const frames: string[] = [];
    for await (const line of frameLines(reads(...pieces))) frames.push(line.toString());
    return { frames, copied };
  } finally {
    spy.mock.restore();
  }
}

test('a frame spread over many reads is copied once, whatever the number of reads', async () => {
  const piece = Buffer.alloc(64 * 1024, 0x61);
  const count = 256; // a 16 MiB frame
  const pieces = [Buffer.from('c'), ...Array.from({ length: count }, () => piece)];
  pieces.push(Buffer.from('\nu{}\nc'), Buffer.from('{}\n'));
  const { frames, copied } = await framesAndCopies(pieces);
  assert.deepEqual(
    frames.map((frame) => frame.length),
    [1 + count * piece.length + 1, 4, 4],
  );
  assert.equal(frames[1], 'u{}\n');
  // The long frame once, and the short one that straddles two reads.
  assert.equal(copied, 1 + count * piece.length + 1 + 4);
});

test('frames within one read are slices of it, and a trailing partial frame is dropped', async () => {
  const { frames, copied } = await framesAndCopies([
    Buffer.from('c{"a":1}\nc{"b"'),
    Buffer.from(':2}\nu{}\nc{"cut'),
  ]);
  assert.deepEqual(frames, ['c{"a":1}\n', 'c{"b":2}\n', 'u{}\n']);
  assert.equal(copied, 'c{"b":2}\n'.length);
});
