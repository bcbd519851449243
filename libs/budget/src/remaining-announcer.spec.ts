import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { RemainingAnnouncer } from './remaining-announcer';

const INTERVAL = 1_000;

function setup(intervalMs = INTERVAL) {
  let now = 50_000;
  const published: string[] = [];
  const built: string[] = [];
  let coalesced = 0;
  const announcer = new RemainingAnnouncer<string>(
    intervalMs,
    (value) => published.push(value),
    () => coalesced++,
    () => now,
  );
  const offer = (limit: string, value: string) =>
    announcer.offer(limit, () => {
      built.push(value);
      return value;
    });
  const pass = (ms: number) => {
    now += ms;
    mock.timers.tick(ms);
  };
  return { announcer, published, built, offer, pass, coalesced: () => coalesced };
}

describe('RemainingAnnouncer', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('sends the first at once and only the latest of the rest when the interval ends', () => {
    const { published, built, offer, pass, coalesced } = setup();
    offer('tokens|u1', 'u1 90');
    assert.deepEqual(published, ['u1 90'], 'nothing went out for it lately: at once');
    pass(100);
    offer('tokens|u1', 'u1 80');
    pass(100);
    offer('tokens|u1', 'u1 70');
    assert.deepEqual(published, ['u1 90'], 'within the interval: waits');
    pass(INTERVAL - 200);
    assert.deepEqual(published, ['u1 90']);
    pass(200);
    assert.deepEqual(published, ['u1 90', 'u1 70'], 'the latest, when the interval ends');
    assert.deepEqual(built, ['u1 90', 'u1 70'], 'a replaced announcement is never built');
    assert.equal(coalesced(), 1);
  });

  it('sends at once again after a quiet interval', () => {
    const { published, offer, pass } = setup();
    offer('tokens|u1', 'a');
    pass(INTERVAL);
    offer('tokens|u1', 'b');
    assert.deepEqual(published, ['a', 'b']);
  });

  it('paces each limit on its own', () => {
    const { published, offer, pass } = setup();
    offer('tokens|u1', 'u1 a');
    offer('tokens|u2', 'u2 a');
    offer('dollars|u1', 'u1 $a');
    offer('tokens|u1', 'u1 b');
    assert.deepEqual(published, ['u1 a', 'u2 a', 'u1 $a']);
    pass(INTERVAL);
    assert.deepEqual(published, ['u1 a', 'u2 a', 'u1 $a', 'u1 b']);
  });

  it('drops what waits for a limit when a transition was announced for it', () => {
    const { published, offer, pass, announcer, coalesced } = setup();
    offer('tokens|u1', 'room 10');
    offer('tokens|u1', 'room 5');
    announcer.supersede('tokens|u1');
    pass(INTERVAL * 2);
    assert.deepEqual(published, ['room 10'], 'a stale remaining never follows an exhausted');
    assert.equal(coalesced(), 1);
    announcer.supersede('tokens|u1');
    assert.equal(coalesced(), 1, 'nothing waited: nothing folded');
  });

  it('with interval 0 sends every one at once', () => {
    const { published, offer } = setup(0);
    offer('tokens|u1', 'a');
    offer('tokens|u1', 'b');
    assert.deepEqual(published, ['a', 'b']);
  });

  it('on close sends what waits, and later ones at once', () => {
    const { published, offer, announcer } = setup();
    offer('tokens|u1', 'a');
    offer('tokens|u1', 'b');
    announcer.close();
    assert.deepEqual(published, ['a', 'b']);
    offer('tokens|u1', 'c');
    assert.deepEqual(published, ['a', 'b', 'c']);
    assert.equal(announcer.waitingCount, 0);
  });

  it('forgets limits quiet for an interval once it remembers many, and still paces the rest', () => {
    const { published, offer, pass } = setup();
    for (let i = 0; i < 10_001; i++) offer(`tokens|old${i}`, `old${i}`);
    pass(INTERVAL);
    offer('tokens|new', 'new a');
    offer('tokens|new', 'new b');
    assert.equal(published.length, 10_002);
    assert.equal(published.at(-1), 'new a', 'the new limit is still paced after the sweep');
    offer('tokens|old0', 'old0 again');
    assert.equal(published.at(-1), 'old0 again', 'quiet for an interval: at once');
  });
});
