// One error type for the contracts module; the code tells a consumer what to do
// (every code here means "do not retry, dead-letter the message").
export enum ContractsErrorCode {
  UnknownTopic = 'CONTRACTS.UNKNOWN_TOPIC',
  MalformedJson = 'CONTRACTS.MALFORMED_JSON',
  TypeMismatch = 'CONTRACTS.TYPE_MISMATCH',
  UnknownVersion = 'CONTRACTS.UNKNOWN_VERSION',
  InvalidPayload = 'CONTRACTS.INVALID_PAYLOAD',
}

export interface ValidationIssue {
  /** Dotted path with array indexes, e.g. `messages[2].role`. */
  readonly path: string;
  readonly message: string;
}

export class ContractsError extends Error {
  override readonly name = 'ContractsError';

  constructor(
    readonly code: ContractsErrorCode,
    message: string,
    readonly details: {
      readonly topic?: string;
      readonly issues?: readonly ValidationIssue[];
    } = {},
  ) {
    super(`${code}: ${message}`);
  }
}
