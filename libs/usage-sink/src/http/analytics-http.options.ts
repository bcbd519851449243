export const ANALYTICS_HTTP_OPTIONS = Symbol('ANALYTICS_HTTP_OPTIONS');

export interface AnalyticsHttpOptions {
  /** When set, every analytics request must carry `Authorization: Bearer <token>`. */
  readonly accessToken?: string;
  /** Store failures, for the log. */
  readonly onStoreError: (error: unknown) => void;
}

/** A caller without the operator's analytics token. */
export class AnalyticsAccessError extends Error {
  override name = 'AnalyticsAccessError';
}

/** A request for what the API serves only with a token set, where none is. */
export class AnalyticsClosedError extends Error {
  override name = 'AnalyticsClosedError';
}
