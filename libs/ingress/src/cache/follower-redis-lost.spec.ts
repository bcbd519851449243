// A deduplication follower given up on because Redis was lost (its replica could not read
// the shared call, or the leader's could not publish all of it): under a billing rule it
// was admitted like any request, and its hold must be given back exactly once, with no
// usage event to settle it; the client gets the error in its API's format.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { GatewayEvent } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import type { Admission } from '../admission/budget-admission';
import { Flight, flightError } from '../dedup/domain/flight';
import type { FlightCoordinator } from '../dedup/domain/flight-coordinator';
import { parseReuseBilling } from './domain/reuse-billing';
import { listenFollowerEdge } from './testing/follower-edge';
import { REUSE_SERVED, reuseChunk } from './testing/reuse-route';

const lost = () =>
  flightError(
    new DataPlaneError(
      DataPlaneErrorCode.UpstreamError,
      'this gateway replica lost its connection to Redis while waiting',
    ),
  );

describe('a billed dedup follower given up on because Redis was lost', () => {
  const events: GatewayEvent[] = [];
  const released: Admission[] = [];
  let holds = 0;
  /** The shared call the next request joins. */
  let joined = new Flight();
  let app: FastifyInstance;
  let url: string;

  before(async () => {
    const flights: FlightCoordinator = {
      join: async () => joined,
      lead: async () => assert.fail('a follower does not lead'),
      close: async () => undefined,
    };
    ({ app, url } = await listenFollowerEdge({
      flights,
      billing: parseReuseBilling('full'),
      admit: () => ({ reservationId: `hold-${++holds}`, headers: {} }),
      released,
      events,
    }));
  });
  after(async () => {
    await app.close();
  });

  const ask = (stream: boolean) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o',
        stream,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });

  it('before the answer began: a 502 in OpenAI format, the hold given back once', async () => {
    events.length = 0;
    released.length = 0;
    joined = new Flight();
    joined.append(lost());
    const response = await ask(false);
    assert.equal(response.status, 502);
    const body = (await response.json()) as { error: { message: string; type: string } };
    assert.match(body.error.message, /lost its connection to Redis/);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      released.map((held) => held.reservationId),
      [`hold-${holds}`],
    );
    assert.equal(events.filter((event) => 'cacheHit' in event).length, 0, 'nothing billed');
  });

  it('mid-stream: an SSE error event ends it, the hold given back once', async () => {
    events.length = 0;
    released.length = 0;
    joined = new Flight();
    joined.append({ t: 'head', kind: 'stream', status: 200, servedBy: REUSE_SERVED });
    joined.append({ t: 'chunk', data: reuseChunk('Hel') });
    const response = await ask(true);
    assert.equal(response.status, 200);
    const reading = response.text();
    await new Promise((resolve) => setTimeout(resolve, 50));
    joined.append(lost());
    const text = await reading;
    assert.match(text, /Hel/);
    assert.match(text, /lost its connection to Redis/);
    assert.doesNotMatch(text, /\[DONE\]/, 'a broken stream never looks finished');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      released.map((held) => held.reservationId),
      [`hold-${holds}`],
    );
    assert.equal(events.filter((event) => 'cacheHit' in event).length, 0, 'nothing billed');
  });
});
