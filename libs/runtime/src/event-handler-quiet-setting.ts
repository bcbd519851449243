// AI_GATEWAY_EVENT_HANDLER_QUIET_AFTER_SECONDS: how long a lone event on a quiet topic (nothing
// else of it moving) must keep failing before the quiet-topic rule may dead-letter it, once
// the topic's last good event, handled again, succeeds (see PoisonIsolation in @aigw/embedded).
import { boundedIntegerSetting } from '@aigw/config';
import { DEFAULT_QUIET_TOPIC_AFTER_MS } from '@aigw/embedded';
import { eventHandlerAttempts } from './event-handler-attempts-setting';
import { startupSetting } from './listen';
import type { Env } from './service-settings';

export const EVENT_HANDLER_QUIET_AFTER_SETTING = 'AI_GATEWAY_EVENT_HANDLER_QUIET_AFTER_SECONDS';
/** A day: longer holds a partition behind one event for no gain. */
const MAX_QUIET_AFTER_SECONDS = 86_400;

/** The setting in ms, or the buses' default (10 minutes); a whole number of seconds, 0..86400. */
export function eventHandlerQuietAfterMs(env: Env): number {
  const seconds = startupSetting(() =>
    boundedIntegerSetting(
      env,
      EVENT_HANDLER_QUIET_AFTER_SETTING,
      DEFAULT_QUIET_TOPIC_AFTER_MS / 1_000,
      {
        min: 0,
        max: MAX_QUIET_AFTER_SECONDS,
        expected: `a whole number of seconds from 0 to ${MAX_QUIET_AFTER_SECONDS}`,
      },
    ),
  );
  return seconds * 1_000;
}

/** When either bus dead-letters a poison event: the same options for Kafka and embedded. */
export interface PoisonRuleOptions {
  readonly handlerAttempts: number;
  readonly quietTopicAfterMs: number;
}

/** Both poison rules' settings, checked at start (a bad value stops it). */
export function poisonRuleOptions(env: Env): PoisonRuleOptions {
  return {
    handlerAttempts: eventHandlerAttempts(env),
    quietTopicAfterMs: eventHandlerQuietAfterMs(env),
  };
}
