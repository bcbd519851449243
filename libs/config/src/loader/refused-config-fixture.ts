import assert from 'node:assert/strict';
import { parseGatewayConfig } from './load-config';
import type { LoadOptions } from './load-options';

/** The formatted errors of a configuration the loader must refuse; fails the test if it loads. */
export function refusalsOf(text: string, options: LoadOptions): string[] {
  const result = parseGatewayConfig(text, options);
  assert.equal(result.ok, false, 'expected the file to be rejected');
  return result.ok ? [] : result.errors.map((e) => e.format());
}
