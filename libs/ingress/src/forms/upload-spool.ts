import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';

/**
 * What all the files spooled at once may take by default: two of the default file limit
 * (AI_GATEWAY_MAX_FILE_BYTES, 200 MiB), which the data directory's 1 GiB emptyDir holds
 * beside a full Kafka spool.
 */
export const DEFAULT_UPLOAD_SPOOL_BYTES = 400 * 1024 * 1024;

/** A spooled file's name: this process's id (to tell leftovers apart), then a random one. */
const SPOOL_FILE = /^upload-(\d+)-[0-9a-f-]+\.part$/;

/** An upload's file part kept on disk until the form's fields after it are read. */
export interface SpooledFile {
  readonly path: string;
  readonly bytes: number;
  /** Its bytes, read back from disk a chunk at a time. */
  content(): AsyncIterable<Buffer>;
  /** Deletes it and gives its bytes back to the spool; safe to call more than once. */
  remove(): Promise<void>;
}

/**
 * Where an upload's file part that came before the fields it is read by (`purpose`) waits
 * for them: a file under `dir` (the gateway's data directory), written as it arrives, so
 * no upload is held whole in memory. The files spooled at once take at most `maxBytes`:
 * past it an upload is refused (413, saying to send `purpose` first, which spools nothing),
 * so the data directory's disk is never filled by uploads.
 */
export class UploadSpool {
  private spooled = 0;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  /** The bytes of every file spooled now. */
  get bytes(): number {
    return this.spooled;
  }

  /**
   * Writes `content` to a new file as it is read; any failure on the way (the client gone,
   * the body limit, the spool full) deletes what was written and is thrown.
   */
  async spool(content: AsyncIterable<Buffer>): Promise<SpooledFile> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const path = join(this.dir, `upload-${process.pid}-${randomUUID()}.part`);
    let reserved = 0;
    let removed = false;
    const remove = async () => {
      if (removed) return;
      removed = true;
      this.spooled -= reserved;
      await rm(path, { force: true });
    };
    // Only this process reads it back: nobody else's to read.
    const handle = await open(path, 'wx', 0o600);
    try {
      for await (const piece of content) {
        if (this.spooled + piece.length > this.maxBytes) throw spoolFull(this.maxBytes);
        this.spooled += piece.length;
        reserved += piece.length;
        await handle.write(piece);
      }
    } catch (error) {
      await handle.close().catch(() => undefined);
      await remove();
      throw error;
    }
    await handle.close();
    return {
      path,
      bytes: reserved,
      content: () => createReadStream(path, { highWaterMark: 64 * 1024 }),
      remove,
    };
  }

  /**
   * Deletes the files an earlier run left (a crash, a kill mid-upload): those of this
   * process's id (none of its own yet: its id was an earlier process's) or of a process
   * gone. Another live process's (a data directory shared by mistake) are left alone.
   * The number deleted.
   */
  async removeLeftovers(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      const pid = SPOOL_FILE.exec(name)?.[1];
      if (pid === undefined || (Number(pid) !== process.pid && isAlive(Number(pid)))) continue;
      await rm(join(this.dir, name), { force: true });
      removed++;
    }
    return removed;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, someone else's.
    return (error as { code?: unknown }).code === 'EPERM';
  }
}

function spoolFull(maxBytes: number): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.BodyTooLarge,
    `The gateway keeps a file sent before its 'purpose' and 'model' fields on disk until they arrive, ` +
      `up to ${maxBytes} bytes for all such uploads at once, and that room is in use: send 'purpose' ` +
      `(and 'model', unless the x-ai-gateway-model header names it) before 'file' in the form, ` +
      `or try again later.`,
    { param: 'file' },
  );
}
