import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
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
  it('beats only for the streams that wrote nothing since the last tick', async () => {
    const heartbeats = new StreamHeartbeats(20);
    const quiet = stream();
    const busy = stream();
    heartbeats.add(quiet);
    heartbeats.add(busy);
    const writing = setInterval(() => (busy.wroteSinceBeat = true), 5);
    try {
      await sleep(110);
    } finally {
      clearInterval(writing);
    }
    assert.ok(quiet.beats >= 3, `quiet stream beat ${quiet.beats} times`);
    assert.equal(busy.beats, 0);
    heartbeats.remove(quiet);
    heartbeats.remove(busy);
    assert.equal(heartbeats.size, 0);
    const before = quiet.beats;
    await sleep(60);
    assert.equal(quiet.beats, before, 'a removed stream gets no more beats');
  });
});
