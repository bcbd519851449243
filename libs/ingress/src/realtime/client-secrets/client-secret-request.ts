import { DataPlaneError, DataPlaneErrorCode, type JsonObject } from '@aigw/contracts/data-plane';

/** OpenAI's bounds on `expires_after.seconds`, and its default (10 minutes). */
const MIN_SECRET_SECONDS = 10;
const MAX_SECRET_SECONDS = 7200;
const DEFAULT_SECRET_SECONDS = 600;

/** What `POST /v1/realtime/client_secrets` asks for, checked. */
export interface ClientSecretRequest {
  /** The session's model: the route, the caller's identity and its budgets follow from it. */
  readonly model: string;
  /** How long the secret may open sessions, from now. */
  readonly seconds: number;
  /** The session configuration applied to every session opened with it (`type` and `model` set). */
  readonly session: JsonObject;
}

function record(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

/** A value as an error repeats it: JSON, cut short (a client may send anything). */
function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? typeof value);
  return text.slice(0, 64);
}

/** A 400 in OpenAI's words, with its `code` (`invalid_type`, `integer_below_min_value`…). */
function invalid(message: string, param: string | undefined, code: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, {
    param,
    upstreamCode: code,
  });
}

function seconds(expiresAfter: unknown): number {
  if (expiresAfter === undefined || expiresAfter === null) return DEFAULT_SECRET_SECONDS;
  const value = record(expiresAfter);
  if (!value) {
    throw invalid(
      "Invalid type for 'expires_after': expected an object.",
      'expires_after',
      'invalid_type',
    );
  }
  if (value.anchor !== undefined && value.anchor !== 'created_at') {
    throw invalid(
      `Invalid value: '${shown(value.anchor)}'. Supported values are: 'created_at'.`,
      'expires_after.anchor',
      'invalid_value',
    );
  }
  const given = value.seconds;
  if (given === undefined || given === null) return DEFAULT_SECRET_SECONDS;
  if (typeof given !== 'number' || !Number.isInteger(given)) {
    throw invalid(
      "Invalid type for 'expires_after.seconds': expected an integer.",
      'expires_after.seconds',
      'invalid_type',
    );
  }
  if (given < MIN_SECRET_SECONDS) {
    throw invalid(
      `Invalid 'expires_after.seconds': integer below minimum value. Expected a value >= ${MIN_SECRET_SECONDS}, but got ${given} instead.`,
      'expires_after.seconds',
      'integer_below_min_value',
    );
  }
  if (given > MAX_SECRET_SECONDS) {
    throw invalid(
      `Invalid 'expires_after.seconds': integer above maximum value. Expected a value <= ${MAX_SECRET_SECONDS}, but got ${given} instead.`,
      'expires_after.seconds',
      'integer_above_max_value',
    );
  }
  return given;
}

/**
 * The request body checked as OpenAI checks it (400s naming the field), with one addition:
 * `session.model` is required, since the gateway picks the route, and so how the caller
 * is identified, from it. Transcription sessions are not served (the WebSocket takes
 * `?model=` sessions only).
 */
export function parseClientSecretRequest(body: unknown): ClientSecretRequest {
  const json = record(body);
  if (!json) {
    throw invalid('The request body must be a JSON object.', undefined, 'invalid_type');
  }
  const session = json.session === undefined ? undefined : record(json.session);
  if (json.session !== undefined && !session) {
    throw invalid("Invalid type for 'session': expected an object.", 'session', 'invalid_type');
  }
  const type = session?.type;
  if (type === 'transcription') {
    throw invalid(
      "Transcription sessions are not served by this gateway: use 'session.type': 'realtime'.",
      'session.type',
      'invalid_value',
    );
  }
  if (type !== undefined && type !== 'realtime') {
    throw invalid(
      `Invalid value: '${shown(type)}'. Supported values are: 'realtime'.`,
      'session.type',
      'invalid_value',
    );
  }
  const model = session?.model;
  if (model === undefined) {
    throw invalid(
      "Missing required parameter: 'session.model' (the gateway routes the session by it).",
      'session.model',
      'missing_required_parameter',
    );
  }
  if (typeof model !== 'string' || model.length === 0) {
    throw invalid(
      "Invalid type for 'session.model': expected a non-empty string.",
      'session.model',
      'invalid_type',
    );
  }
  return {
    model,
    seconds: seconds(json.expires_after),
    session: { ...session, type: 'realtime', model },
  };
}
