import { InvalidSettingError, positiveIntegerSetting } from '@aigw/config';
import { ROUTER_HOP_TIMEOUT_MS } from './realtime-wire';

/** The longest a timer can wait: Node fires a longer one after 1 ms, refusing every session. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * AI_GATEWAY_REALTIME_HOP_HANDSHAKE_MS: how long the ingress waits for the router to answer a
 * Realtime session's handshake (default 60 s). Read at start-up, so a bad value stops the
 * service with a message naming the variable rather than failing sessions later.
 */
export function realtimeHopHandshakeMs(env: Readonly<Record<string, string | undefined>>): number {
  const name = 'AI_GATEWAY_REALTIME_HOP_HANDSHAKE_MS';
  const ms = positiveIntegerSetting(env, name, ROUTER_HOP_TIMEOUT_MS);
  if (ms > MAX_TIMER_MS) {
    throw new InvalidSettingError(
      `${name} must be at most ${MAX_TIMER_MS} (ms), got "${env[name]}"`,
    );
  }
  return ms;
}
