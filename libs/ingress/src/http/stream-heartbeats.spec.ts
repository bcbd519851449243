import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamHeartbeats, type HeartbeatStream } from './stream-heartbeats';

function stream(): HeartbeatStream & { beats: number } {
  return {
    wroteSinceBeat: false,
    beats: 0,
    beat() {
      this.beats++;
    },
  };
}

describe('StreamHeartbeats', () => {
  // Mocked timers: the ticks come exactly when the test says, however busy the machine is
  // (with real ones, a loaded CI box stalled the 5 ms writer past a tick now and then).
  it('beats only for the streams that wrote nothing since the last tick', (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const heartbeats = new StreamHeartbeats(20);
    const quiet = stream();
    const busy = stream();
    heartbeats.add(quiet);
    heartbeats.add(busy);
    for (let tick = 0; tick < 5; tick++) {
      busy.wroteSinceBeat = true; // a write between two ticks
      t.mock.timers.tick(20);
    }
    assert.equal(quiet.beats, 5);
    assert.equal(busy.beats, 0);

    t.mock.timers.tick(20); // busy wrote nothing in this one
    assert.equal(busy.beats, 1);

    heartbeats.remove(quiet);
    heartbeats.remove(busy);
    assert.equal(heartbeats.size, 0);
    t.mock.timers.tick(100);
    assert.equal(quiet.beats, 6, 'a removed stream gets no more beats');
  });
});
