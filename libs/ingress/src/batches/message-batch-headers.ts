import type { IncomingHttpHeaders } from 'node:http';
import type { HeldCallHeaders } from '@aigw/contracts/data-plane';
import { anthropicBetas } from '../anthropic/messages-betas';
import { invalid } from './held-api';

/** A beta's name as Anthropic spells them (`interleaved-thinking-2025-05-14`). */
const BETA_NAME = /^[\x21-\x7e]{1,256}$/;
/** At most this many betas are passed on (Anthropic has a few dozen). */
const MAX_BETAS = 64;

/**
 * What a message batch's create tells its backend of the client's headers: the betas it
 * asked for in `anthropic-beta`, which Anthropic applies to every request of the batch,
 * unless the route strips that header (`security.stripHeaders`), as for /v1/messages. A
 * beta name that no HTTP header could carry on is a 400 naming the header.
 */
export function messageBatchHeaders(
  headers: IncomingHttpHeaders,
  stripHeaders: readonly string[],
): HeldCallHeaders | undefined {
  if (stripHeaders.includes('anthropic-beta')) return undefined;
  const betas = anthropicBetas(headers);
  if (betas.length === 0) return undefined;
  if (betas.length > MAX_BETAS || !betas.every((beta) => BETA_NAME.test(beta))) {
    throw invalid(
      `anthropic-beta: each beta must be a name of visible ASCII characters, at most ${MAX_BETAS} of them`,
      'anthropic-beta',
    );
  }
  return { 'anthropic-beta': [...new Set(betas)].join(',') };
}
