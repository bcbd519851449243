import assert from 'node:assert/strict';
import { parseGatewayConfig, type LoadResult } from './load-config';
import type { LoadOptions } from './load-options';

/** The result of a configuration the loader must accept; fails the test with its errors if refused. */
export function loadedOf(text: string, options: LoadOptions): Extract<LoadResult, { ok: true }> {
  const result = parseGatewayConfig(text, options);
  if (!result.ok) assert.fail(result.errors.map((e) => e.format()).join('\n'));
  return result;
}
