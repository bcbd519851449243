import type { BackendConfig, GatewayConfig } from '@aigw/config';

/** Where a backend's calls go: its provider and URL (a Vertex backend's project and place). */
function upstreamOf(backend: BackendConfig): string {
  const vertex = backend.vertex ? `${backend.vertex.project}/${backend.vertex.location}` : '';
  return `${backend.provider} ${backend.baseUrl ?? ''} ${vertex}`;
}

/** Each backend name's upstreams (a name may stand in several routes), in one string. */
function upstreamsByName(config: GatewayConfig): Map<string, string> {
  const byName = new Map<string, Set<string>>();
  for (const route of config.routes) {
    for (const backend of route.backends) {
      let upstreams = byName.get(backend.name);
      if (!upstreams) byName.set(backend.name, (upstreams = new Set()));
      upstreams.add(upstreamOf(backend));
    }
  }
  return new Map([...byName].map(([name, upstreams]) => [name, [...upstreams].sort().join('\n')]));
}

/**
 * The backend names a reload pointed at another upstream. Health is kept by name, so a
 * name reused for another provider or URL would carry the old upstream's cooldown over.
 * A name a reload removed keeps its last upstream here, as its health is kept: brought
 * back at another upstream by a later reload, it is named then.
 * One comparison per call while the config object stays the same.
 */
export class UpstreamChanges {
  private config?: GatewayConfig;
  /** Each backend name's upstreams when last configured. */
  private upstreams = new Map<string, string>();

  /** Names configured now and before whose upstream differs; [] at the first look. */
  since(config: GatewayConfig): string[] {
    if (config === this.config) return [];
    const next = upstreamsByName(config);
    const changed = [...next].filter(([name, upstream]) => {
      const before = this.upstreams.get(name);
      return before !== undefined && before !== upstream;
    });
    this.config = config;
    this.upstreams = new Map([...this.upstreams, ...next]);
    return changed.map(([name]) => name);
  }
}
