import type { AdmissionOptions } from '@aigw/ingress';
import { StartupError, type Env } from '@aigw/runtime';

export interface BudgetSettings extends AdmissionOptions {
  readonly alertWebhookUrl?: string;
}

function positive(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new StartupError(`${name} must be a positive whole number, got "${raw}"`);
  }
  return value;
}

/** Budget admission knobs from the environment (see the README). */
export function budgetSettings(env: Env): BudgetSettings {
  const webhook = env.AI_GATEWAY_ALERT_WEBHOOK_URL;
  if (webhook) {
    try {
      new URL(webhook);
    } catch {
      throw new StartupError('AI_GATEWAY_ALERT_WEBHOOK_URL is not a valid URL');
    }
  }
  return {
    defaultMaxOutputTokens: positive(env, 'AI_GATEWAY_DEFAULT_MAX_OUTPUT_TOKENS', 4096),
    holdMs: positive(env, 'AI_GATEWAY_RESERVATION_HOLD_MS', 600_000),
    ...(webhook ? { alertWebhookUrl: webhook } : {}),
  };
}
