import { isUnresolved, type ChainLink, type UnresolvedLink } from './backend-chain';

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
 * State is per router process: each replica balances its own requests, which spreads the
 * whole fleet's the same way.
 */
export class BackendBalancer {
  /** Each group's current weights, by the names of its backends. */
  private readonly groups = new Map<string, number[]>();

  order<L extends ChainLink | UnresolvedLink>(links: readonly L[]): readonly L[] {
    let ordered: L[] | undefined;
    for (let start = 0; start < links.length;) {
      const end = groupEnd(links, start);
      if (end - start > 1) {
        ordered ??= links.slice();
        const group = links.slice(start, end) as ChainLink[];
        const turn = this.take(group);
        ordered.splice(start, group.length, ...(inTurn(group, turn) as L[]));
      }
      start = end;
    }
    return ordered ?? links;
  }

  /** The index in `group` whose turn it is; moves the group's weights on by one pick. */
  private take(group: readonly ChainLink[]): number {
    const key = group.map((link) => link.backend.name).join('\n');
    let current = this.groups.get(key);
    if (!current) {
      if (this.groups.size >= MAX_GROUPS) this.groups.clear();
      current = group.map(() => 0);
      this.groups.set(key, current);
    }
    let total = 0;
    let best = 0;
    for (let index = 0; index < group.length; index++) {
      const weight = group[index].backend.weight;
      total += weight;
      current[index] += weight;
      if (current[index] > current[best]) best = index;
    }
    current[best] -= total;
    return best;
  }
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
