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
}

/**
 * POSTs each alert as JSON to a configured URL (`AI_GATEWAY_ALERT_WEBHOOK_URL`). A slow or
 * failing receiver never holds up settlement: the call is bounded and its outcome is
 * reported, not retried forever (the alert is also on the alert topic). A URL's
 * `user:password@` is sent as basic auth, as a receiver behind one expects.
 */
export class WebhookAlertNotifier implements AlertNotifier {
  private readonly target: URL;
  private readonly headers: Record<string, string>;

  constructor(
    url: string,
    private readonly report: (result: AlertWebhookResult) => void,
    private readonly timeoutMs = 5_000,
  ) {
    this.target = new URL(url);
    this.headers = { 'content-type': 'application/json', ...basicAuthOf(this.target) };
    // undici sends no credentials of a URL: they travel in the header alone.
    this.target.username = '';
    this.target.password = '';
  }

  async notify(alert: AlertRaised): Promise<void> {
    this.report(await this.send(alert));
  }

  private async send(alert: AlertRaised): Promise<AlertWebhookResult> {
    try {
      const response = await request(this.target, {
        method: 'POST',
        headers: this.headers,
        body: JSON.stringify(alert),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.body.dump();
      const status = response.statusCode;
      if (status >= 200 && status < 300) return { outcome: 'delivered' };
      return { outcome: 'refused', detail: `webhook answered ${status}` };
    } catch (error) {
      const name = error instanceof Error ? error.name : 'webhook call failed';
      return { outcome: name === 'TimeoutError' ? 'timeout' : 'unreachable', detail: name };
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
): AlertNotifier | undefined {
  if (!url) return undefined;
  return new WebhookAlertNotifier(url, ({ outcome, detail }) => {
    deps.metrics.recordAlertWebhook(outcome);
    if (outcome !== 'delivered')
      deps.logger.warn('alert webhook failed', { outcome, reason: detail });
  });
}
