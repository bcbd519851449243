import type { IngressPipeline } from '../../ingress-pipeline';

/**
 * A stand-in pipeline for the Files and Batch API specs: every caller is `alice`, on every
 * route, and may use every model. `extra` adds or replaces members a spec needs.
 */
export function alicePipeline(extra: Partial<Record<keyof IngressPipeline, unknown>> = {}) {
  return {
    ownerKeyFor: () => 'alice',
    ownerKeysWithoutModel: async () => ['alice'],
    callerFor: () => ({ userKey: 'alice' }),
    mayUse: () => true,
    ...extra,
  } as unknown as IngressPipeline;
}
