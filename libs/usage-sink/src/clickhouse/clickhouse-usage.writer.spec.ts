// The writer after an insert that failed on its side: the next write waits (fails) while
// the server still runs that insert, and goes on once it has ended. The real server's
// behaviour is in clickhouse-timed-out-insert.int-spec.ts; here, each answer it can give.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import { usageEventAt } from '../testing/analytics-fixture';
import { ClickHouseUsageWriter } from './clickhouse-usage.writer';

type Answer = 'in-use' | 'unreachable' | 'ended';

/** A client whose inserts fail as told, and whose `SELECT 1` under an id answers as told. */
function scriptedClient(insertFailures: number, probeAnswers: Answer[]) {
  const calls = { inserts: [] as string[], probes: [] as string[] };
  let failuresLeft = insertFailures;
  const client = {
    query: async (params: { query: string; query_id?: string }) => {
      if (params.query === 'SELECT 1') {
        calls.probes.push(params.query_id ?? '');
        const answer = probeAnswers.shift();
        if (answer === 'in-use') {
          throw Object.assign(new Error('Query with id = x is already running'), { code: '216' });
        }
        if (answer === 'unreachable') throw new Error('connect ECONNREFUSED');
      }
      return { json: async () => [] };
    },
    insert: async (params: { query_id?: string }) => {
      calls.inserts.push(params.query_id ?? '');
      if (failuresLeft-- > 0) throw new Error('Timeout error.');
    },
  };
  return { client: client as unknown as ClickHouseClient, calls };
}

const events = [usageEventAt(new Date('2026-03-04T00:00:00Z'), 'r1')];

describe('ClickHouseUsageWriter after an insert failed on its side', () => {
  it('fails each write while the insert runs, and writes once it has ended', async () => {
    const { client, calls } = scriptedClient(1, ['in-use', 'unreachable', 'ended']);
    const writer = new ClickHouseUsageWriter(client);
    await assert.rejects(writer.write(events), /Timeout error/);
    const [failedId] = calls.inserts;
    assert.ok(failedId);

    await assert.rejects(writer.write(events), /still run on ClickHouse/);
    // ClickHouse away: that error, and the insert is asked about again next time.
    await assert.rejects(writer.write(events), /ECONNREFUSED/);
    assert.equal(calls.inserts.length, 1);

    await writer.write(events);
    assert.deepEqual(calls.probes, [failedId, failedId, failedId]);
    assert.equal(calls.inserts.length, 2);
    assert.notEqual(calls.inserts[1], failedId); // each insert its own id

    await writer.write(events); // nothing failed since: no question asked
    assert.equal(calls.probes.length, 3);
  });

  it('asks nothing before a write when no insert failed', async () => {
    const { client, calls } = scriptedClient(0, []);
    const writer = new ClickHouseUsageWriter(client);
    await writer.write(events);
    await writer.write(events);
    assert.equal(calls.probes.length, 0);
    assert.equal(calls.inserts.length, 2);
  });
});
