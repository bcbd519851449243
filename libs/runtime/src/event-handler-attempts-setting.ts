// AI_GATEWAY_EVENT_HANDLER_ATTEMPTS: how many retry rounds an event consumer's handler may
// fail on one event, while it handles the others of the batch, before that event goes to
// the dead-letter topic. A round where every event fails (the store is down) never counts.
import { DEFAULT_HANDLER_ATTEMPTS } from '@aigw/embedded';
import { StartupError } from './listen';
import type { Env } from './service-settings';

export const EVENT_HANDLER_ATTEMPTS_SETTING = 'AI_GATEWAY_EVENT_HANDLER_ATTEMPTS';
const MAX_ATTEMPTS = 100;

/** The setting, or the buses' default (5); refuses anything but a whole number in 1..100. */
export function eventHandlerAttempts(env: Env): number {
  const raw = env[EVENT_HANDLER_ATTEMPTS_SETTING]?.trim();
  if (raw === undefined || raw === '') return DEFAULT_HANDLER_ATTEMPTS;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_ATTEMPTS) {
    throw new StartupError(
      `${EVENT_HANDLER_ATTEMPTS_SETTING} must be a whole number from 1 to ${MAX_ATTEMPTS}, got "${raw}"`,
    );
  }
  return value;
}
