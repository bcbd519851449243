// AI_GATEWAY_EVENT_HANDLER_QUIET_AFTER_SECONDS: how long a lone event on a quiet topic (nothing
// else of it moving) must keep failing before the quiet-topic rule may dead-letter it, once
// the topic's last good event, handled again, succeeds (see PoisonIsolation in @aigw/embedded).
import { DEFAULT_QUIET_TOPIC_AFTER_MS } from '@aigw/embedded';
import { eventHandlerAttempts } from './event-handler-attempts-setting';
import { StartupError } from './listen';
import type { Env } from './service-settings';

export const EVENT_HANDLER_QUIET_AFTER_SETTING = 'AI_GATEWAY_EVENT_HANDLER_QUIET_AFTER_SECONDS';
/** A day: longer holds a partition behind one event for no gain. */
const MAX_QUIET_AFTER_SECONDS = 86_400;

/** The setting in ms, or the buses' default (10 minutes); a whole number of seconds, 0..86400. */
export function eventHandlerQuietAfterMs(env: Env): number {
  const raw = env[EVENT_HANDLER_QUIET_AFTER_SETTING]?.trim();
  if (raw === undefined || raw === '') return DEFAULT_QUIET_TOPIC_AFTER_MS;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_QUIET_AFTER_SECONDS) {
    throw new StartupError(
      `${EVENT_HANDLER_QUIET_AFTER_SETTING} must be a whole number of seconds from 0 to ${MAX_QUIET_AFTER_SECONDS}, got "${raw}"`,
    );
  }
  return value * 1_000;
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
