import { DataPlaneError, DataPlaneErrorCode } from './data-plane.errors';

/**
 * A backend sent nothing within its first-byte timeout, as timed by the router (a stream's
 * wait for its first event covers its headers). The router cancels the attempt's call with
 * this as the abort's reason, so the provider's metering can tell the backend's timeout
 * from a client that left: both reach it as an aborted signal, and only the second is
 * `cancelled` in ai_gateway_backend_requests_total, which the backend alerts leave out.
 */
export class BackendSilence extends DataPlaneError {
  constructor(message: string) {
    super(DataPlaneErrorCode.UpstreamTimeout, message);
  }
}

/** The silence of `backendName`'s stream past `ms`, as every service words it. */
export function backendSilence(backendName: string, ms: number): BackendSilence {
  return new BackendSilence(`backend "${backendName}" sent no stream data within ${ms} ms`);
}
