import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { encodeEvent } from '@aigw/contracts';
import { numberedUsageEvent } from '@aigw/testing';
import { EventSpool } from './event-spool';
import { openEventSpool } from './open-event-spool';

const dir = mkdtempSync(join(tmpdir(), 'aigw-open-spool-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PAGE = 4096;

/** A spool file holding `n` events, checkpointed into the main file and closed. */
function spoolWith(path: string, n: number): void {
  const spool = new EventSpool(path);
  spool.append(Array.from({ length: n }, (_, i) => encodeEvent(numberedUsageEvent('olga', i))));
  spool.close();
}

describe('openEventSpool', () => {
  it('sets aside a spool whose pages are corrupted, keeping its bytes, and opens an empty one', () => {
    const path = join(dir, 'malformed.db');
    spoolWith(path, 400);
    const damaged = readFileSync(path);
    damaged.fill(0x55, PAGE * 2, PAGE * 5); // inside the table, past the schema page
    writeFileSync(path, damaged);

    const { spool, setAside } = openEventSpool(path, {}, () => 1234);
    try {
      assert.deepEqual(setAside, {
        movedTo: `${path}.unreadable-1234`,
        reason: 'database disk image is malformed',
      });
      assert.deepEqual(readFileSync(setAside.movedTo), damaged, 'kept as found');
      assert.equal(spool.count, 0);
      const stored = spool.append([encodeEvent(numberedUsageEvent('olga', 1000))]);
      assert.equal(stored.accepted, 1, 'the fresh spool takes events');
    } finally {
      spool.close();
    }
  });

  it('opens a readable spool as it is, with what it holds', () => {
    const path = join(dir, 'fine.db');
    spoolWith(path, 3);
    const { spool, setAside } = openEventSpool(path);
    try {
      assert.equal(setAside, undefined);
      assert.equal(spool.count, 3);
    } finally {
      spool.close();
    }
  });

  it('still refuses a spool another process holds, moving nothing', () => {
    const path = join(dir, 'held.db');
    const holder = new EventSpool(path);
    try {
      assert.throws(() => openEventSpool(path), /in use by another process/);
      assert.deepEqual(
        readdirSync(dir).filter((name) => name.startsWith('held.db.unreadable')),
        [],
      );
      assert.ok(existsSync(path));
    } finally {
      holder.close();
    }
  });
});
