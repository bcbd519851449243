import { request } from 'undici';
import type { AlertRaised } from '@aigw/contracts';

/** Where threshold alerts go besides the alert topic. */
export interface AlertNotifier {
  notify(alert: AlertRaised): Promise<void>;
}

/**
 * POSTs each alert as JSON to a configured URL (`AI_GATEWAY_ALERT_WEBHOOK_URL`). A slow or
 * failing receiver never holds up settlement: the call is bounded and its failure is
 * reported, not retried forever (the alert is also on the alert topic).
 */
export class WebhookAlertNotifier implements AlertNotifier {
  constructor(
    private readonly url: string,
    private readonly onFailure: (reason: string) => void,
    private readonly timeoutMs = 5_000,
  ) {}

  async notify(alert: AlertRaised): Promise<void> {
    try {
      const response = await request(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alert),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.body.dump();
      if (response.statusCode >= 400) this.onFailure(`webhook answered ${response.statusCode}`);
    } catch (error) {
      this.onFailure(error instanceof Error ? error.name : 'webhook call failed');
    }
  }
}

/** The webhook notifier when a URL is configured, else none. */
export function webhookAlertNotifier(
  url: string | undefined,
  onFailure: (reason: string) => void,
): AlertNotifier | undefined {
  return url ? new WebhookAlertNotifier(url, onFailure) : undefined;
}
