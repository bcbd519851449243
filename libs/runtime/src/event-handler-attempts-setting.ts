// AI_GATEWAY_EVENT_HANDLER_ATTEMPTS: how many retry rounds an event consumer's handler may
// fail on one event, while it handles the others of the batch, before that event goes to
// the dead-letter topic. A round where every event fails (the store is down) never counts.
import { boundedIntegerSetting } from '@aigw/config';
import { DEFAULT_HANDLER_ATTEMPTS } from '@aigw/embedded';
import { startupSetting } from './listen';
import type { Env } from './service-settings';

export const EVENT_HANDLER_ATTEMPTS_SETTING = 'AI_GATEWAY_EVENT_HANDLER_ATTEMPTS';
const MAX_ATTEMPTS = 100;

/** The setting, or the buses' default (5); refuses anything but a whole number in 1..100. */
export function eventHandlerAttempts(env: Env): number {
  return startupSetting(() =>
    boundedIntegerSetting(env, EVENT_HANDLER_ATTEMPTS_SETTING, DEFAULT_HANDLER_ATTEMPTS, {
      min: 1,
      max: MAX_ATTEMPTS,
      expected: `a whole number from 1 to ${MAX_ATTEMPTS}`,
    }),
  );
}
