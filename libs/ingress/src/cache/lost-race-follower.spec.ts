// A request that missed the cache and found no shared call, was admitted, then lost the race
// to lead (another identical request took the key first): it follows that call. Under
// AI_GATEWAY_REUSE_BILLING=none its hold is given back, and its reused answer's usage event
// must not name that hold: settled, a released hold reads as one that lapsed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { GatewayEvent } from '@aigw/contracts';
import type { Admission } from '../admission/budget-admission';
import { Flight, pumpIntoFlight } from '../dedup/domain/flight';
import type { FlightCoordinator } from '../dedup/domain/flight-coordinator';
import { parseReuseBilling } from './domain/reuse-billing';
import { listenFollowerEdge } from './testing/follower-edge';
import { reuseJsonAnswer } from './testing/reuse-route';

describe('a request that lost the race to lead a shared call (reuse not billed)', () => {
  const events: GatewayEvent[] = [];
  const released: Admission[] = [];
  let app: FastifyInstance;
  let url: string;

  before(async () => {
    // The winner's call, already answered: this request finds no call when it looks (the
    // winner had not taken the key yet), then loses the lock to it.
    const winner = new Flight();
    await pumpIntoFlight(Promise.resolve(reuseJsonAnswer()), winner);
    const flights: FlightCoordinator = {
      join: async () => undefined,
      lead: async () => ({ follower: winner }),
      close: async () => undefined,
    };
    ({ app, url } = await listenFollowerEdge({
      flights,
      billing: parseReuseBilling('none'),
      admit: () => ({ reservationId: 'hold-1', headers: {} }),
      released,
      events,
    }));
  });
  after(async () => {
    await app.close();
  });

  it('gives its hold back once, and its usage event names no hold', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(response.headers.get('x-ai-gateway-dedup'), 'follower');
    await response.json();
    assert.deepEqual(
      released.map((held) => held.reservationId),
      ['hold-1'],
    );
    const reused = events.filter((event) => (event as { cacheHit?: unknown }).cacheHit === true);
    assert.equal(reused.length, 1);
    const event = reused[0] as { reservationId?: string; inputTokens: number };
    assert.equal(event.inputTokens, 0, 'not billed');
    assert.equal(event.reservationId, undefined, 'the released hold is not settled again');
  });
});
