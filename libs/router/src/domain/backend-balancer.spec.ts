import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackendConfig } from '@aigw/config';
import { BackendBalancer } from './backend-balancer';
import type { ChainLink, UnresolvedLink } from './backend-chain';

function link(name: string, priority: number, weight = 1, viaModel = 'gpt-4'): ChainLink {
  const backend = { name, priority, weight } as BackendConfig;
  return { backend, upstreamModel: `${name}-model`, viaModel };
}

const names = (links: readonly (ChainLink | UnresolvedLink)[]) =>
  links.map((l) => ('unresolvedModel' in l ? `?${l.unresolvedModel}` : l.backend.name));

/** How often each backend came first over `rounds` requests. */
function firstCounts(balancer: BackendBalancer, links: ChainLink[], rounds: number) {
  const counts: Record<string, number> = {};
  for (let i = 0; i < rounds; i++) {
    const first = balancer.order(links)[0];
    counts[first.backend.name] = (counts[first.backend.name] ?? 0) + 1;
  }
  return counts;
}

describe('BackendBalancer', () => {
  it('leaves a chain of distinct priorities as it is, the same array', () => {
    const links = [link('a', 0), link('b', 1), link('c', 2)];
    assert.equal(new BackendBalancer().order(links), links);
  });

  it('takes equal-priority backends in turn, the others following as the failover order', () => {
    const balancer = new BackendBalancer();
    const links = [link('a', 0), link('b', 0), link('c', 0), link('fallback', 1)];
    assert.deepEqual(names(balancer.order(links)), ['a', 'b', 'c', 'fallback']);
    assert.deepEqual(names(balancer.order(links)), ['b', 'c', 'a', 'fallback']);
    assert.deepEqual(names(balancer.order(links)), ['c', 'a', 'b', 'fallback']);
    assert.deepEqual(names(balancer.order(links)), ['a', 'b', 'c', 'fallback']);
    assert.deepEqual(names(links), ['a', 'b', 'c', 'fallback'], 'the input is not reordered');
  });

  it('shares requests by weight, interleaved rather than in runs', () => {
    const balancer = new BackendBalancer();
    const links = [link('big', 0, 3), link('small', 0, 1)];
    const firsts = Array.from({ length: 8 }, () => names(balancer.order(links))[0]);
    assert.deepEqual(firsts, ['big', 'big', 'small', 'big', 'big', 'big', 'small', 'big']);
    assert.deepEqual(firstCounts(balancer, links, 4000), { big: 3000, small: 1000 });
  });

  it('calls a weight-0 backend only after the others of its priority', () => {
    const balancer = new BackendBalancer();
    const links = [link('standby', 0, 0), link('a', 0), link('b', 0)];
    for (let i = 0; i < 6; i++) {
      const order = names(balancer.order(links));
      assert.equal(order[2], 'standby', order.join());
    }
    assert.deepEqual(firstCounts(balancer, links, 100), { a: 50, b: 50 });
  });

  it('balances each priority and each model of a fallback chain on its own', () => {
    const balancer = new BackendBalancer();
    const links: (ChainLink | UnresolvedLink)[] = [
      link('a', 0),
      link('b', 0),
      link('c', 1),
      link('d', 1),
      { unresolvedModel: 'gone' },
      link('cheap-1', 0, 1, 'gpt-4o-mini'),
      link('cheap-2', 0, 1, 'gpt-4o-mini'),
    ];
    assert.deepEqual(names(balancer.order(links)), [
      'a',
      'b',
      'c',
      'd',
      '?gone',
      'cheap-1',
      'cheap-2',
    ]);
    assert.deepEqual(names(balancer.order(links)), [
      'b',
      'a',
      'd',
      'c',
      '?gone',
      'cheap-2',
      'cheap-1',
    ]);
  });

  it('keeps one turn per group across requests for different models of a wildcard group', () => {
    const balancer = new BackendBalancer();
    const first = (model: string) =>
      names(balancer.order([link('a', 0, 1, model), link('b', 0, 1, model)]))[0];
    // The same two backends serve both names: their turn is shared, not one per name.
    assert.deepEqual([first('x'), first('y'), first('x'), first('y')], ['a', 'b', 'a', 'b']);
  });
});
