// The writer after an insert that failed on its side: the next write waits (fails) while
// the server still runs that insert, and goes on once it has ended. The real server's
// behaviour is in clickhouse-timed-out-insert.int-spec.ts; here, each answer it can give.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import { usageEventAt } from '../testing/analytics-fixture';
import { ClickHouseUsageWriter, REFUSAL_REMEMBERED_MS } from './clickhouse-usage.writer';

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

describe('ClickHouseUsageWriter after ClickHouse refused an insert', () => {
  /** A client holding `events` already, whose inserts fail with `insertError` while set. */
  function holdingClient() {
    const state: { insertError: Error | undefined; commands: number } = {
      insertError: undefined,
      commands: 0,
    };
    const client = {
      query: async (params: { query: string }) => ({
        json: async () =>
          params.query === 'SELECT 1'
            ? []
            : events.map((e) => ({ raw_table: 'usage_events', event_id: e.eventId })),
      }),
      insert: async () => {
        if (state.insertError) throw state.insertError;
      },
      command: async () => {
        state.commands++;
      },
    };
    return { client: client as unknown as ClickHouseClient, state };
  }
  const fresh = [usageEventAt(new Date('2026-03-04T00:00:00Z'), 'r2')];

  it('fails a write of held events while the table refuses rows, for REFUSAL_REMEMBERED_MS at most', async () => {
    let now = 1_000_000;
    const { client, state } = holdingClient();
    const writer = new ClickHouseUsageWriter(client, undefined, () => now);
    state.insertError = new Error(
      'Code: 252. DB::Exception: Too many parts (300). (TOO_MANY_PARTS)',
    );
    await assert.rejects(writer.write(fresh), /Too many parts/);
    await assert.rejects(writer.write(events), /refused its last insert into usage_events/);
    now += REFUSAL_REMEMBERED_MS - 1;
    await assert.rejects(writer.write(events), /refused its last insert/);
    now += 1; // no refused event retried since: forgotten
    await writer.write(events);
    assert.equal(state.commands, 1); // and asked whether the table takes inserts
  });

  it('takes held events again once an insert into the table is taken', async () => {
    const { client, state } = holdingClient();
    const writer = new ClickHouseUsageWriter(client);
    state.insertError = new Error(
      'Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space',
    );
    await assert.rejects(writer.write(fresh), /not enough space/);
    await assert.rejects(writer.write(events), /refused its last insert/);
    state.insertError = undefined;
    await writer.write(fresh);
    await writer.write(events);
  });

  it('takes held events while only an event its data cannot be stored of is refused', async () => {
    const { client, state } = holdingClient();
    const writer = new ClickHouseUsageWriter(client);
    // A poison event's refusal: the buses must still see the store work, and letter it.
    state.insertError = new Error("Code: 27. DB::Exception: Cannot parse input: expected '\"'");
    await assert.rejects(writer.write(fresh), /Cannot parse input/);
    await writer.write(events);
  });
});
