import { StartupError } from './listen';
import type { Env } from './service-settings';

const ANSWER_AFTER_RECORD_SETTING = 'AI_GATEWAY_ANSWER_AFTER_RECORD';

/**
 * AI_GATEWAY_ANSWER_AFTER_RECORD: `on` holds each answer (a JSON body, a stream's end)
 * until its usage event is durable, so a crash cannot lose the record of an answer a
 * client got: a provider's answer where it is metered (the gateway, the provider-adapter),
 * a cache hit or deduplicated answer at the edge (the gateway, the ingress). `off`
 * (default) answers at once and writes the event within ~50 ms. Anything else stops the
 * start.
 */
export function answerAfterRecord(env: Env): boolean {
  const raw = env[ANSWER_AFTER_RECORD_SETTING]?.trim().toLowerCase();
  if (raw === undefined || raw === '' || raw === 'off') return false;
  if (raw === 'on') return true;
  throw new StartupError(
    `${ANSWER_AFTER_RECORD_SETTING} must be "on" or "off", got "${env[ANSWER_AFTER_RECORD_SETTING]}"`,
  );
}
