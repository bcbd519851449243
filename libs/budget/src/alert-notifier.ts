import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { AlertRaised } from '@aigw/contracts';
import type { Logger, MetricsRegistry } from '@aigw/observability';

/** Where threshold alerts go besides the alert topic. */
export interface AlertNotifier {
  notify(alert: AlertRaised): Promise<void>;
}

/**
 * What became of one webhook call: delivered (a 2xx), refused (any other status, a redirect
 * included: none is followed), timeout, or unreachable (no answer at all).
 */
export type AlertWebhookOutcome = 'delivered' | 'refused' | 'timeout' | 'unreachable';

export interface AlertWebhookResult {
  readonly outcome: AlertWebhookOutcome;
  /** Why it failed, for the log: a status or an error's name, never the URL. */
  readonly detail?: string;
  /** Which call this was for the alert: 1, then 2, 3 for the retries. */
  readonly attempt?: number;
  /** True when another call follows (a failure worth retrying, retries left). */
  readonly willRetry?: boolean;
}

/** The pauses before the second and third call: a receiver restarting gets half a minute. */
const ALERT_WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [2_000, 20_000];

/**
 * POSTs each alert as JSON to a configured URL (`AI_GATEWAY_ALERT_WEBHOOK_URL`). A slow or
 * failing receiver never holds up settlement: the caller does not wait, each call is
 * bounded, and a failure that may pass (a timeout, no answer, 408, 429, 5xx) is retried a
 * bounded number of times; each call's outcome is reported. The alert is also on the alert
 * topic. A URL's `user:password@` is sent as basic auth, as a receiver behind one expects.
 * A retry after a timeout may deliver twice: receivers dedupe on the alert's `eventId`.
 */
export class WebhookAlertNotifier implements AlertNotifier {
  private readonly target: URL;
  private readonly headers: Record<string, string>;

  constructor(
    url: string,
    private readonly report: (result: AlertWebhookResult) => void,
    private readonly timeoutMs = 5_000,
    private readonly retryDelaysMs: readonly number[] = ALERT_WEBHOOK_RETRY_DELAYS_MS,
  ) {
    this.target = new URL(url);
    this.headers = { 'content-type': 'application/json', ...basicAuthOf(this.target) };
    // undici sends no credentials of a URL: they travel in the header alone.
    this.target.username = '';
    this.target.password = '';
  }

  async notify(alert: AlertRaised): Promise<void> {
    const body = JSON.stringify(alert);
    for (let attempt = 1; ; attempt++) {
      const result = await this.send(body);
      const delay = this.retryDelaysMs[attempt - 1];
      const willRetry = delay !== undefined && result.retryable;
      this.report({ outcome: result.outcome, detail: result.detail, attempt, willRetry });
      if (!willRetry) return;
      // Unref'd: a pending retry never keeps a stopping process alive.
      await sleep(delay, undefined, { ref: false });
    }
  }

  private async send(body: string): Promise<AlertWebhookResult & { retryable: boolean }> {
    try {
      const response = await request(this.target, {
        method: 'POST',
        headers: this.headers,
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.body.dump();
      const status = response.statusCode;
      if (status >= 200 && status < 300) return { outcome: 'delivered', retryable: false };
      return {
        outcome: 'refused',
        detail: `webhook answered ${status}`,
        retryable: status === 408 || status === 429 || status >= 500,
      };
    } catch (error) {
      const name = error instanceof Error ? error.name : 'webhook call failed';
      const outcome = name === 'TimeoutError' ? 'timeout' : 'unreachable';
      return { outcome, detail: name, retryable: true };
    }
  }
}

/** `Authorization: Basic` from a URL's user and password (URL-encoded there), if it has them. */
function basicAuthOf(url: URL): Record<string, string> {
  if (url.username === '' && url.password === '') return {};
  const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return { authorization: `Basic ${Buffer.from(user).toString('base64')}` };
}

/**
 * The webhook notifier when a URL is configured, else none: each call's outcome counted in
 * `ai_gateway_budget_alert_webhooks_total`, each failure logged (without the URL, which may
 * hold a token or a password).
 */
export function webhookAlertNotifier(
  url: string | undefined,
  deps: {
    readonly metrics: Pick<MetricsRegistry, 'recordAlertWebhook'>;
    readonly logger: Pick<Logger, 'warn'>;
  },
  retryDelaysMs: readonly number[] = ALERT_WEBHOOK_RETRY_DELAYS_MS,
): AlertNotifier | undefined {
  if (!url) return undefined;
  const report = ({ outcome, detail, attempt, willRetry }: AlertWebhookResult) => {
    deps.metrics.recordAlertWebhook(outcome);
    if (outcome !== 'delivered')
      deps.logger.warn(willRetry ? 'alert webhook failed; will retry' : 'alert webhook failed', {
        outcome,
        reason: detail,
        attempt,
      });
  };
  return new WebhookAlertNotifier(url, report, undefined, retryDelaysMs);
}
