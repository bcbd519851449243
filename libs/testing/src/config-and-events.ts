import { parseGatewayConfig, type GatewayConfig } from '@aigw/config';
import type { EventPublisher, GatewayEvent } from '@aigw/contracts';

/** A gateway config from YAML for a unit test: missing secrets only warn; an error throws. */
export function configFromYaml(yaml: string): GatewayConfig {
  const result = parseGatewayConfig(yaml, { missingSecrets: 'warn', env: {} });
  if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  return result.config;
}

/** An event publisher that keeps every event it is given, for a test to read. */
export class RecordingPublisher implements EventPublisher {
  readonly events: GatewayEvent[] = [];

  publish(event: GatewayEvent): void {
    this.events.push(event);
  }

  async flush(): Promise<void> {}
}
