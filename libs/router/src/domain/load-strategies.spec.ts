// The least-busy and lowest-latency strategies: the order within one priority by the load
// BackendLoad measures (clock and random injected, so every order is exact).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackendConfig, LoadBalancingConfig } from '@aigw/config';
import { BackendBalancer, type Balancing } from './backend-balancer';
import type { ChainLink, UnresolvedLink } from './backend-chain';
import { BackendLoad } from './backend-load';

function link(name: string, priority: number, weight = 1): ChainLink {
  const backend = { name, priority, weight } as BackendConfig;
  return { backend, upstreamModel: `${name}-model`, viaModel: 'gpt-4' };
}

const names = (links: readonly (ChainLink | UnresolvedLink)[]) =>
  links.map((l) => ('unresolvedModel' in l ? `?${l.unresolvedModel}` : l.backend.name));

class Clock {
  ms = 0;
  readonly now = () => this.ms;
}

function balancing(load: BackendLoad, config: LoadBalancingConfig): Balancing {
  return { config, load: (name) => load.of(name) };
}

const LEAST_BUSY: LoadBalancingConfig = { strategy: 'least-busy', explorationPercent: 0 };
const LOWEST_LATENCY: LoadBalancingConfig = { strategy: 'lowest-latency', explorationPercent: 0 };

/** Records one answered call of `ms` on `backend`. */
function measure(load: BackendLoad, clock: Clock, backend: string, ms: number): void {
  const call = load.start(backend);
  clock.ms += ms;
  call.answered();
  call.ended();
}

describe('BackendLoad', () => {
  it('counts calls in flight until each ends, once however often it is ended', () => {
    const load = new BackendLoad();
    const first = load.start('a');
    const second = load.start('a');
    assert.equal(load.of('a').inFlight, 2);
    first.ended();
    first.ended();
    assert.equal(load.of('a').inFlight, 1);
    second.ended();
    assert.deepEqual(load.of('a'), { inFlight: 0, samples: 0 });
    assert.deepEqual(load.of('never-called'), { inFlight: 0, samples: 0 });
  });

  it('keeps an exponentially weighted moving average of answered calls only', () => {
    const clock = new Clock();
    const load = new BackendLoad(clock.now);
    measure(load, clock, 'a', 100);
    assert.equal(load.of('a').latencyMs, 100, 'the first answer sets it');
    measure(load, clock, 'a', 200);
    assert.equal(load.of('a').latencyMs, 130, '30% of the new sample');
    const failed = load.start('a');
    clock.ms += 5000;
    failed.ended();
    const twice = load.start('a');
    clock.ms += 30;
    twice.answered();
    clock.ms += 1000;
    twice.answered();
    twice.ended();
    assert.deepEqual(load.of('a'), { inFlight: 0, latencyMs: 100, samples: 3 });
  });
});

describe('BackendLoad latency by kind', () => {
  it('orders streams by first-event latency and JSON by whole-call latency, apart', () => {
    const clock = new Clock();
    const load = new BackendLoad(clock.now);
    const answer = (backend: string, kind: 'json' | 'stream', ms: number) => {
      const call = load.start(backend);
      clock.ms += ms;
      call.answered(kind);
      call.ended();
    };
    // a: long JSON answers, quick to start streaming; b: the other way round.
    answer('a', 'json', 5000);
    answer('a', 'stream', 50);
    answer('b', 'json', 200);
    answer('b', 'stream', 400);
    const balancer = new BackendBalancer();
    const links = [link('a', 0), link('b', 0)];
    const byKind = (kind: 'json' | 'stream'): Balancing => ({
      config: LOWEST_LATENCY,
      load: (name) => load.of(name, kind),
    });
    for (let i = 0; i < 4; i++) {
      assert.deepEqual(names(balancer.order(links, byKind('stream'))), ['a', 'b']);
      assert.deepEqual(names(balancer.order(links, byKind('json'))), ['b', 'a']);
    }
    assert.deepEqual(load.of('a', 'stream'), {
      inFlight: 0,
      latencyMs: 50,
      samples: 1,
      kindInFlight: 0,
    });
    // The operator's figure averages both kinds.
    assert.equal(load.of('a').samples, 2);
  });

  it("ages each kind's figure apart, and the operator's from the last answer of any kind", () => {
    const clock = new Clock();
    const load = new BackendLoad(clock.now, 10_000);
    const answer = (kind: 'json' | 'stream', ms: number) => {
      const call = load.start('a', kind);
      clock.ms += ms;
      call.answered(kind);
      call.ended();
    };
    assert.equal(load.ageOf('a', 'json'), undefined, 'never answered');
    answer('stream', 100);
    clock.ms = 6_000;
    answer('json', 100); // at 6.1 s
    clock.ms = 9_000;
    assert.equal(load.ageOf('a'), 2_900);
    assert.equal(load.ageOf('a', 'json'), 2_900);
    assert.equal(load.ageOf('a', 'stream'), 8_900);
    assert.equal(load.ageOf('a', 'stream', 20_000), 19_900, 'at the time given');
    // The operator's figure, read at a time, is left out a half-life after the last answer.
    assert.equal(load.of('a', undefined, 16_099).latencyMs, 100);
    assert.deepEqual(load.of('a', undefined, 16_100), { inFlight: 0, samples: 2 });
    assert.equal(load.of('a').latencyMs, 100, 'without a time: the last figure');
  });
});

describe('BackendBalancer strategies', () => {
  it('least-busy: the backend with the fewest calls in flight goes first', () => {
    const load = new BackendLoad();
    const balancer = new BackendBalancer();
    const links = [link('a', 0), link('b', 0), link('c', 0), link('fallback', 1)];
    load.start('a');
    load.start('a');
    load.start('b');
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(names(balancer.order(links, balancing(load, LEAST_BUSY))), [
        'c',
        'b',
        'a',
        'fallback',
      ]);
    }
  });

  it('least-busy: calls in flight count relative to weight; idle ties go by weighted turn', () => {
    const load = new BackendLoad();
    const balancer = new BackendBalancer();
    const links = [link('big', 0, 3), link('small', 0, 1)];
    const lb = balancing(load, LEAST_BUSY);
    // Idle: the weighted turn, exactly as weighted-round-robin (3:1: big big small big).
    const firsts = Array.from({ length: 2 }, () => names(balancer.order(links, lb))[0]);
    assert.deepEqual(firsts, ['big', 'big']);
    // small's turn, but big with 2 in flight (2/3) is less busy than small with 1 (1/1).
    load.start('big');
    load.start('big');
    load.start('small');
    assert.deepEqual(names(balancer.order(links, lb)), ['big', 'small']);
    load.start('big'); // 3/3 ties 1/1: the turn decides again (big big | big big small big)
    const tied = Array.from({ length: 5 }, () => names(balancer.order(links, lb))[0]);
    assert.deepEqual(tied, ['big', 'big', 'big', 'small', 'big']);
  });

  it('least-busy: weights as uneven as 1:1000 share calls by weight, neither favouring nor starving the light one', () => {
    const links = [link('heavy', 0, 1000), link('light', 0, 1)];
    // Two calls at a time, each ending as the next starts: by the figures before the call,
    // an idle light backend (0/1) was less busy than heavy with one (1/1000) and took about
    // every other call; its weight is worth one in 1001.
    const load = new BackendLoad();
    const balancer = new BackendBalancer();
    const lb = balancing(load, LEAST_BUSY);
    const running: { ended(): void }[] = [];
    const firsts = { heavy: 0, light: 0 };
    for (let call = 0; call < 10_010; call++) {
      if (running.length === 2) running.shift()!.ended();
      const first = names(balancer.order(links, lb))[0] as keyof typeof firsts;
      firsts[first]++;
      running.push(load.start(first));
    }
    assert.ok(firsts.light >= 5 && firsts.light <= 20, `light took ${firsts.light} of 10010`);

    // Busy past its weight's worth (1000 in flight), heavy gives the call to the idle one;
    // light, in its turn with a call of its own still running, gives it to heavy.
    const busy = new BackendLoad();
    const order = () => names(new BackendBalancer().order(links, balancing(busy, LEAST_BUSY)));
    for (let i = 0; i < 1000; i++) busy.start('heavy');
    assert.deepEqual(order(), ['light', 'heavy']);
    const idleHeavy = new BackendLoad();
    idleHeavy.start('light');
    const turns = new BackendBalancer();
    const lightFirst = Array.from(
      { length: 1001 },
      () => names(turns.order(links, balancing(idleHeavy, LEAST_BUSY)))[0],
    ).filter((name) => name === 'light');
    assert.deepEqual(lightFirst, []);
  });

  it('least-busy: a cooling backend idle for its cooldown does not hand the call to the least busy now', () => {
    // The caller moves resting backends last; a resting one picked first must not leave the
    // call to whichever backend is least busy before it (light, 0/1, beside heavy's 1/1000).
    const links = [link('heavy', 0, 1000), link('light', 0, 1), link('spare', 0, 1000)];
    const resting = (name: string) => name === 'spare';
    const load = new BackendLoad();
    const balancer = new BackendBalancer();
    const lb = balancing(load, LEAST_BUSY);
    const running: { ended(): void }[] = [];
    const firsts = { heavy: 0, light: 0, spare: 0 };
    for (let call = 0; call < 10_010; call++) {
      if (running.length === 2) running.shift()!.ended();
      const ordered = names(balancer.order(links, lb, 'r', resting));
      const first = ordered.find((name) => !resting(name)) as keyof typeof firsts;
      firsts[first]++;
      running.push(load.start(first));
    }
    assert.ok(firsts.light >= 5 && firsts.light <= 20, `light took ${firsts.light} of 10010`);
  });

  it('least-busy: a weight-0 standby stays last however idle it is', () => {
    const load = new BackendLoad();
    const links = [link('a', 0), link('standby', 0, 0), link('b', 0)];
    load.start('a');
    load.start('a');
    load.start('b');
    assert.deepEqual(names(new BackendBalancer().order(links, balancing(load, LEAST_BUSY))), [
      'b',
      'a',
      'standby',
    ]);
  });

  it('lowest-latency: unmeasured backends first, then the fastest average', () => {
    const clock = new Clock();
    const load = new BackendLoad(clock.now);
    const balancer = new BackendBalancer();
    const links = [link('slow', 0), link('fast', 0), link('new', 0), link('fallback', 1)];
    const ll = balancing(load, LOWEST_LATENCY);
    measure(load, clock, 'slow', 200);
    measure(load, clock, 'fast', 20);
    assert.deepEqual(names(balancer.order(links, ll)), ['new', 'fast', 'slow', 'fallback']);
    measure(load, clock, 'new', 80);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(names(balancer.order(links, ll)), ['fast', 'new', 'slow', 'fallback']);
    }
    // The fast one slows down: its average passes the others' after a few answers.
    for (let i = 0; i < 5; i++) measure(load, clock, 'fast', 400);
    assert.deepEqual(names(balancer.order(links, ll)), ['new', 'slow', 'fast', 'fallback']);
  });

  it('lowest-latency: an unmeasured backend whose first call is under way is not put first', () => {
    const clock = new Clock();
    const load = new BackendLoad(clock.now);
    const balancer = new BackendBalancer();
    const links = [link('fast', 0), link('new', 0)];
    const ll = balancing(load, LOWEST_LATENCY);
    measure(load, clock, 'fast', 20);
    assert.deepEqual(names(balancer.order(links, ll)), ['new', 'fast'], 'first, to be measured');
    // Its first call is slow; until it answers, every other call must not pile onto it.
    const first = load.start('new');
    for (let i = 0; i < 4; i++) {
      assert.deepEqual(names(balancer.order(links, ll)), ['fast', 'new']);
    }
    clock.ms += 5_000;
    first.answered();
    first.ended();
    assert.deepEqual(names(balancer.order(links, ll)), ['fast', 'new']);
  });

  it('lowest-latency: explorationPercent of calls keep the weighted order', () => {
    const clock = new Clock();
    const load = new BackendLoad(clock.now);
    const draws = [0.04, 0.05, 0.01, 0.5];
    const balancer = new BackendBalancer(() => draws.shift() ?? 0.99);
    const links = [link('slow', 0), link('fast', 0)];
    const ll = balancing(load, { strategy: 'lowest-latency', explorationPercent: 5 });
    measure(load, clock, 'slow', 200);
    measure(load, clock, 'fast', 20);
    const firsts = Array.from({ length: 5 }, () => names(balancer.order(links, ll))[0]);
    // 0.04 < 5%: the turn's order (slow first); 0.05: by latency; 0.01: the turn's again
    // (slow: the turn moved on every call, slow fast slow); 0.5 and 0.99: by latency.
    assert.deepEqual(firsts, ['slow', 'fast', 'slow', 'fast', 'fast']);
    assert.equal(draws.length, 0);
  });

  it('weighted-round-robin (or no strategy) ignores the load', () => {
    const load = new BackendLoad();
    load.start('a');
    load.start('a');
    const links = [link('a', 0), link('b', 0)];
    const wrr = balancing(load, { strategy: 'weighted-round-robin', explorationPercent: 0 });
    assert.deepEqual(names(new BackendBalancer().order(links, wrr)), ['a', 'b']);
    assert.deepEqual(names(new BackendBalancer().order(links)), ['a', 'b']);
  });
});

describe('lowest-latency: latency figures age by their half-life', () => {
  const HALF_LIFE = 10_000;

  /** The order as the router asks for it: the figures read at the clock's time. */
  function ageing(load: BackendLoad, clock: Clock): Balancing {
    return { config: LOWEST_LATENCY, load: (name) => load.of(name, 'json', clock.ms) };
  }

  it('a backend slow once and then left alone is tried again once its figure is stale', () => {
    const clock = new Clock();
    const load = new BackendLoad(clock.now, HALF_LIFE);
    const balancer = new BackendBalancer();
    const links = [link('slow', 0), link('fast', 0)];
    const ll = ageing(load, clock);
    measure(load, clock, 'slow', 500);
    measure(load, clock, 'fast', 50);
    const slowMeasuredAt = 500;
    // The fast one takes every call; the slow one's figure is not refreshed.
    while (clock.ms < slowMeasuredAt + HALF_LIFE - 50) {
      assert.deepEqual(names(balancer.order(links, ll)), ['fast', 'slow'], `at ${clock.ms}`);
      measure(load, clock, 'fast', 50);
    }
    clock.ms = slowMeasuredAt + HALF_LIFE;
    assert.equal(load.of('slow', 'json', clock.ms).latencyMs, undefined, 'stale: unmeasured');
    assert.equal(load.of('slow', 'json', clock.ms).samples, 1);
    assert.equal(load.of('fast', 'json', clock.ms).latencyMs, 50, 'fresh: as it was');
    assert.deepEqual(names(balancer.order(links, ll)), ['slow', 'fast'], 'retried first');
    // Its probe is under way: the other calls do not pile onto it meanwhile.
    const probe = load.start('slow');
    assert.deepEqual(names(balancer.order(links, ll)), ['fast', 'slow']);
    clock.ms += 40;
    probe.answered('json');
    probe.ended();
    // It is quick now: the stale 500 is mostly replaced (weight 1 - 2^-(10040/10000)).
    const weight = 1 - 2 ** -((HALF_LIFE + 40) / HALF_LIFE);
    assert.equal(load.of('slow', 'json', clock.ms).latencyMs, 500 + weight * (40 - 500));
    assert.ok(load.of('slow', 'json', clock.ms).latencyMs! < 270);
  });

  it('a backend retried after a long quiet that is quick now goes first again', () => {
    const clock = new Clock();
    const load = new BackendLoad(clock.now, HALF_LIFE);
    const balancer = new BackendBalancer();
    const links = [link('fast', 0), link('recovered', 0)];
    const ll = ageing(load, clock);
    measure(load, clock, 'recovered', 400);
    measure(load, clock, 'fast', 100);
    clock.ms += 5 * HALF_LIFE; // hours, as far as the figures go
    measure(load, clock, 'fast', 100);
    measure(load, clock, 'recovered', 20);
    // 400 over five half-lives old weighs under 1/32: one quick answer outweighs it.
    const weight = 1 - 2 ** -((clock.ms - 400) / HALF_LIFE);
    assert.ok(weight > 1 - 2 ** -5);
    assert.equal(load.of('recovered', 'json', clock.ms).latencyMs, 400 + weight * (20 - 400));
    assert.deepEqual(names(balancer.order(links, ll)), ['recovered', 'fast']);
  });

  it('fresh figures average and order as before: 30% of each sample taken close together', () => {
    const clock = new Clock();
    const load = new BackendLoad(clock.now, HALF_LIFE);
    measure(load, clock, 'a', 100);
    measure(load, clock, 'a', 200);
    assert.equal(load.of('a', 'json', clock.ms).latencyMs, 130);
    // Up to half a half-life apart the weight stays 30% (1 - 2^-0.5 is 0.29).
    clock.ms += HALF_LIFE / 2 - 300;
    measure(load, clock, 'a', 230);
    assert.equal(load.of('a', 'json', clock.ms).latencyMs, 160);
    // A figure just short of its half-life still counts.
    clock.ms += HALF_LIFE - 1;
    assert.equal(load.of('a', 'json', clock.ms).latencyMs, 160);
    clock.ms += 1;
    assert.equal(load.of('a', 'json', clock.ms).latencyMs, undefined);
    // The operator's figure (no time given) keeps the last value, stale or not.
    assert.equal(load.of('a').latencyMs, 160);
  });

  it('the sample after exactly one half-life weighs half', () => {
    const clock = new Clock();
    const load = new BackendLoad(clock.now, HALF_LIFE);
    measure(load, clock, 'a', 100);
    clock.ms += HALF_LIFE - 300;
    measure(load, clock, 'a', 300);
    assert.equal(load.of('a').latencyMs, 200);
  });
});

describe('lowest-latency: a stale figure is probed once, by its own kind', () => {
  const HALF_LIFE = 10_000;

  function ordered(load: BackendLoad, clock: Clock, kind: 'json' | 'stream'): Balancing {
    return { config: LOWEST_LATENCY, load: (name) => load.of(name, kind, clock.ms) };
  }

  /** One answered call of `kind` taking `ms`. */
  function answer(
    load: BackendLoad,
    clock: Clock,
    backend: string,
    kind: 'json' | 'stream',
    ms: number,
  ) {
    const call = load.start(backend, kind);
    clock.ms += ms;
    call.answered(kind);
    call.ended();
  }

  it('a stale stream figure is probed while JSON calls to that backend are in flight', () => {
    const clock = new Clock();
    const load = new BackendLoad(clock.now, HALF_LIFE);
    const balancer = new BackendBalancer();
    const links = [link('other', 0), link('busy', 0)];
    answer(load, clock, 'busy', 'stream', 10);
    answer(load, clock, 'other', 'stream', 100);
    clock.ms += HALF_LIFE;
    answer(load, clock, 'other', 'stream', 100);
    // busy serves JSON all the time: a JSON call is always under way there.
    const json = load.start('busy', 'json');
    // Its stream figure is stale and no stream call is measuring it: probed first.
    assert.deepEqual(names(balancer.order(links, ordered(load, clock, 'stream'))), [
      'busy',
      'other',
    ]);
    // Once a stream probe is under way, the other streams do not pile onto it.
    const probe = load.start('busy', 'stream');
    assert.deepEqual(names(balancer.order(links, ordered(load, clock, 'stream'))), [
      'other',
      'busy',
    ]);
    probe.ended();
    json.ended();
    // least-busy still counts every call in flight.
    load.start('busy', 'json');
    assert.equal(load.of('busy', 'stream').inFlight, 1);
  });

  it('a stale backend whose probe failed is not probed again on every request', () => {
    const clock = new Clock();
    const load = new BackendLoad(clock.now, HALF_LIFE);
    const balancer = new BackendBalancer();
    const links = [link('fast', 0), link('slow', 0)];
    answer(load, clock, 'slow', 'json', 500);
    answer(load, clock, 'fast', 'json', 50);
    clock.ms += HALF_LIFE;
    answer(load, clock, 'fast', 'json', 50);
    assert.deepEqual(names(balancer.order(links, ordered(load, clock, 'json'))), ['slow', 'fast']);
    // The probe fails (failed calls are not measured).
    const probe = load.start('slow', 'json');
    clock.ms += 5;
    probe.ended();
    // The probe was spent: its old figure counts again until another half-life passes.
    for (let i = 0; i < 5; i++) {
      answer(load, clock, 'fast', 'json', 50);
      assert.deepEqual(names(balancer.order(links, ordered(load, clock, 'json'))), [
        'fast',
        'slow',
      ]);
    }
    // A half-life after the failed probe, it is probed again.
    clock.ms += HALF_LIFE;
    answer(load, clock, 'fast', 'json', 50);
    assert.deepEqual(names(balancer.order(links, ordered(load, clock, 'json'))), ['slow', 'fast']);
  });
});
