import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { UploadSpool } from './upload-spool';

describe('UploadSpool', () => {
  const root = mkdtempSync(join(tmpdir(), 'upload-spool-spec-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('writes a file only this process may read, reads it back, and deletes it once', async () => {
    const spool = new UploadSpool(join(root, 'one'), 1024);
    const file = await spool.spool(Readable.from([Buffer.from('abc'), Buffer.from('def')]));
    assert.equal(file.bytes, 6);
    assert.equal(spool.bytes, 6);
    assert.equal(statSync(file.path).mode & 0o777, 0o600);
    assert.equal((await gathered(file.content())).toString(), 'abcdef');
    await file.remove();
    await file.remove();
    assert.deepEqual(readdirSync(join(root, 'one')), []);
    assert.equal(spool.bytes, 0, 'given back once, not twice');
  });

  it('deletes what an earlier run left (its own id, or a process gone), not a live process’s', async () => {
    const dir = join(root, 'leftovers');
    mkdirSync(dir);
    // A process that has ended: its id is free (not reused this soon on an idle machine).
    const gone = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    const names = {
      own: `upload-${process.pid}-0f0e0d0c-aaaa-bbbb-cccc-000000000001.part`,
      gone: `upload-${gone}-0f0e0d0c-aaaa-bbbb-cccc-000000000002.part`,
      live: `upload-${process.ppid}-0f0e0d0c-aaaa-bbbb-cccc-000000000003.part`,
      other: 'notes.txt',
    };
    for (const name of Object.values(names)) writeFileSync(join(dir, name), 'x');
    assert.equal(await new UploadSpool(dir, 1024).removeLeftovers(), 2);
    assert.deepEqual(readdirSync(dir).sort(), [names.live, names.other].sort());
  });

  it('finds nothing to delete where no spool was made yet', async () => {
    assert.equal(await new UploadSpool(join(root, 'never'), 1024).removeLeftovers(), 0);
  });
});

/** Every piece of `content`, concatenated (rejects as it does). */
async function gathered(content: AsyncIterable<Buffer>): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of content) pieces.push(piece);
  return Buffer.concat(pieces);
}
