import type { LoadBalancingConfig } from '@aigw/config';
import { isUnresolved, type ChainLink, type UnresolvedLink } from './backend-chain';
import type { LoadFigures } from './backend-load';

/** A route's strategy and where the backends' load is read. */
export interface Balancing {
  readonly config: LoadBalancingConfig;
  readonly load: (backend: string) => LoadFigures;
}

/** Groups remembered at most; a config reload names new groups, so old ones are dropped. */
const MAX_GROUPS = 10_000;

/**
 * Spreads requests over the backends of equal priority, as Envoy does with the backends of
 * one priority: in proportion to their `weight`, by smooth weighted round robin (nginx's),
 * so a 3:1 pair goes A A B A rather than A A A B, and each backend sees an even stream.
 * The backend picked goes first; the rest of its group follow it, in turn, as the failover
 * order, those of weight 0 last (a standby, called only when the others fail). A chain with
 * no two backends of equal priority is returned as it is, with nothing allocated.
 *
 * A route's `loadBalancing.strategy` may reorder the group's weighted backends by load:
 * least-busy by calls in flight per unit of weight, lowest-latency by latency (unmeasured
 * backends first, so each gets measured; `explorationPercent` of calls keep the weighted
 * order, so a slow backend's figure can recover). The weighted turn moves on every call
 * and breaks their ties, so idle backends still share calls by weight.
 *
 * State is per router process: each replica balances its own requests, which spreads the
 * whole fleet's the same way.
 */
export class BackendBalancer {
  /** Each group's current weights, by the names of its backends. */
  private readonly groups = new Map<string, number[]>();

  /** `random` in [0, 1), for lowest-latency's exploration share. */
  constructor(private readonly random: () => number = Math.random) {}

  /**
   * `route`: whose turn it is. Backend names are unique only within a route, and each
   * route's turn must spread that route's calls: two routes naming their backends alike
   * (east, west) and sharing one turn would each send every call to one of them.
   * `resting`: backends out of rotation now (cooling, drained), which the caller puts
   * last. They take no turn, so the others share the calls by their weights; were their
   * turns passed on, the backend after each would take them too (2:1 with one of three
   * drained).
   */
  order<L extends ChainLink | UnresolvedLink>(
    links: readonly L[],
    balancing?: Balancing,
    route = '',
    resting?: (backend: string) => boolean,
  ): readonly L[] {
    let ordered: L[] | undefined;
    for (let start = 0; start < links.length;) {
      const end = groupEnd(links, start);
      if (end - start > 1) {
        ordered ??= links.slice();
        const group = links.slice(start, end) as ChainLink[];
        const turn = this.take(group, route, resting);
        const rotated = inTurn(group, turn);
        ordered.splice(start, group.length, ...(this.byLoad(rotated, balancing, resting) as L[]));
      }
      start = end;
    }
    return ordered ?? links;
  }

  /** The group in turn, its weighted backends reordered by the strategy (a stable sort). */
  private byLoad(
    rotated: ChainLink[],
    balancing: Balancing | undefined,
    resting: ((backend: string) => boolean) | undefined,
  ): ChainLink[] {
    const strategy = balancing?.config.strategy ?? 'weighted-round-robin';
    if (!balancing || strategy === 'weighted-round-robin') return rotated;
    const weighted = rotated.filter((link) => link.backend.weight > 0);
    const standbys = rotated.filter((link) => link.backend.weight === 0);
    if (strategy === 'least-busy') {
      return [...leastBusy(weighted, balancing.load, resting), ...standbys];
    }
    const share = balancing.config.explorationPercent;
    if (strategy === 'lowest-latency' && share > 0 && this.random() * 100 < share) return rotated;
    const score = (link: ChainLink): number => {
      const figures = balancing.load(link.backend.name);
      if (figures.latencyMs !== undefined) return figures.latencyMs;
      // Unmeasured: first, unless a call of this kind is under way (its measure is coming;
      // until then every call would pile onto it, however slow it is) or failed lately (it
      // would get every first try while it fails). Calls of the other kind measure nothing
      // here, and must not keep it from being measured.
      const waiting = figures.probeSpent || (figures.kindInFlight ?? figures.inFlight) > 0;
      return waiting ? Number.MAX_VALUE : -1;
    };
    const scores = new Map(weighted.map((link) => [link, score(link)]));
    weighted.sort((a, b) => (scores.get(a) ?? 0) - (scores.get(b) ?? 0));
    return [...weighted, ...standbys];
  }

  /**
   * The index in `group` whose turn it is; moves the group's weights on by one pick. A
   * reload that changes a weight starts the group afresh: current weights built up under
   * the old ones (1000:1) would otherwise be paid back in a run of hundreds of calls to
   * one backend.
   */
  private take(
    group: readonly ChainLink[],
    route: string,
    resting: ((backend: string) => boolean) | undefined,
  ): number {
    let key = route;
    for (const { backend } of group) key += `\n${backend.name}\t${backend.weight}`;
    let current = this.groups.get(key);
    if (!current) {
      if (this.groups.size >= MAX_GROUPS) this.groups.clear();
      current = group.map(() => 0);
      this.groups.set(key, current);
    }
    // With the whole group resting, each takes its turn as usual.
    const skip = resting && group.some((link) => !resting(link.backend.name)) ? resting : undefined;
    let total = 0;
    let best = -1;
    for (let index = 0; index < group.length; index++) {
      if (skip?.(group[index].backend.name)) continue;
      const weight = group[index].backend.weight;
      total += weight;
      current[index] += weight;
      if (best < 0 || current[index] > current[best]) best = index;
    }
    current[best] -= total;
    return best;
  }
}

/**
 * least-busy's order of the weighted backends, given in turn (the first is the one whose
 * turn it is): by calls in flight per unit of weight, the least busy first. The first place
 * goes to the backend that would be least busy relative to its weight with this call too,
 * but the one in turn keeps it when it is no busier now than that: calls in flight are
 * whole, so by the figures before the call an idle backend of weight 1 beside one of weight
 * 1,000 with a single call would take every call while idle, about half of them at two calls
 * at a time where its weight is worth a thousandth. Idle, everyone keeps its turn, so calls
 * go by weight; a busy one is passed over only for one that has room for the call. A resting
 * backend (idle because it is cooling) takes no first place: the caller moves it last, which
 * would leave the call to whichever is least busy before it, the light one above.
 */
function leastBusy(
  weighted: readonly ChainLink[],
  load: Balancing['load'],
  resting: ((backend: string) => boolean) | undefined,
): ChainLink[] {
  if (weighted.length === 0) return [];
  const inFlight = new Map(weighted.map((link) => [link, load(link.backend.name).inFlight]));
  const busy = (link: ChainLink, added = 0) => (inFlight.get(link)! + added) / link.backend.weight;
  const [turnLink, ...others] = weighted;
  // The turn skips resting backends unless the whole group rests: then they all compete.
  const skip = resting?.(turnLink.backend.name) ? undefined : resting;
  let best: ChainLink | undefined;
  let bestBusy = Infinity;
  for (const link of others) {
    if (skip?.(link.backend.name)) continue;
    const withCall = busy(link, 1);
    if (withCall < bestBusy) [best, bestBusy] = [link, withCall];
  }
  const first = best && bestBusy <= busy(turnLink) ? best : turnLink;
  // The others as failover order: the least busy now first, ties in turn (a stable sort).
  const rest = weighted.filter((link) => link !== first).sort((a, b) => busy(a) - busy(b));
  return [first, ...rest];
}

/** Where the group of equal priority that starts at `start` ends (exclusive). */
function groupEnd(links: readonly (ChainLink | UnresolvedLink)[], start: number): number {
  const first = links[start];
  let end = start + 1;
  if (isUnresolved(first)) return end;
  while (end < links.length) {
    const link = links[end];
    if (
      isUnresolved(link) ||
      link.viaModel !== first.viaModel ||
      link.backend.priority !== first.backend.priority
    ) {
      break;
    }
    end++;
  }
  return end;
}

/** The group from `turn` on, wrapping round; weight-0 backends after the others. */
function inTurn(group: readonly ChainLink[], turn: number): ChainLink[] {
  const rotated = [...group.slice(turn), ...group.slice(0, turn)];
  const standby = (link: ChainLink) => link.backend.weight === 0;
  return [...rotated.filter((link) => !standby(link)), ...rotated.filter(standby)];
}
