import type { JsonObject } from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';
import { streamInterrupted } from './upstream-http';

/**
 * A stream event's data as the JSON object every event of a provider's stream is;
 * anything else interrupts the stream, since the answer can no longer be trusted whole.
 */
export function streamEventObject(backendName: string, data: string): JsonObject {
  let event: unknown;
  try {
    event = JSON.parse(data);
  } catch {
    throw streamInterrupted(backendName, 'sent a stream event that is not JSON');
  }
  if (!isJsonObject(event)) {
    throw streamInterrupted(backendName, 'sent a stream event that is not a JSON object');
  }
  return event;
}
