import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { PATH_PREFIXES } from '../http/public-paths';

/** Browsers cannot set headers on a WebSocket: OpenAI takes the key as a subprotocol. */
export const KEY_PROTOCOL_PREFIX = 'openai-insecure-api-key.';

/**
 * The paths of a Realtime session, under every prefix the public API is served at: with
 * and without `/v1`, and Azure OpenAI's `/openai/v1` and `/openai`.
 */
export const REALTIME_PATHS: ReadonlySet<string> = new Set(
  PATH_PREFIXES.map((prefix) => `${prefix}/realtime`),
);

/** The subprotocols a client offered (`Sec-WebSocket-Protocol`), in order. */
export function offeredProtocols(headers: IncomingHttpHeaders): string[] {
  const value = headers['sec-websocket-protocol'];
  if (typeof value !== 'string') return [];
  return value
    .split(',')
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol.length > 0);
}

/**
 * The headers the caller is identified by: as sent, with a browser's key subprotocol
 * (`openai-insecure-api-key.<key>`) as `Authorization: Bearer <key>` when no
 * Authorization came, and without the subprotocol header itself (it may hold that key).
 */
export function identityHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const { 'sec-websocket-protocol': _protocols, ...rest } = headers;
  if (rest.authorization !== undefined) return rest;
  const key = offeredProtocols(headers).find((p) => p.startsWith(KEY_PROTOCOL_PREFIX));
  const token = key?.slice(KEY_PROTOCOL_PREFIX.length);
  return token ? { ...rest, authorization: `Bearer ${token}` } : rest;
}

/** OpenAI's ephemeral keys, and the gateway's own client secrets, start so. */
const CLIENT_SECRET = /^[ \t]*bearer[ \t]+(ek_[^\s]+)[ \t]*$/i;

/**
 * The gateway client secret (`ek_…`) the caller opens its session with, sent as
 * `Authorization: Bearer ek_…` or as a browser's key subprotocol; undefined when its
 * credential is anything else.
 */
export function clientSecretOf(headers: IncomingHttpHeaders): string | undefined {
  const authorization = identityHeaders(headers).authorization;
  return typeof authorization === 'string' ? CLIENT_SECRET.exec(authorization)?.[1] : undefined;
}

/**
 * The subprotocol the gateway answers with: `realtime` when offered, else the first one
 * that is not a key; never a key (a browser fails the socket when one was offered and
 * none is chosen, so one is chosen whenever possible).
 */
export function chosenProtocol(offered: Iterable<string>): string | false {
  const safe = [...offered].filter((p) => !p.startsWith(KEY_PROTOCOL_PREFIX));
  return safe.includes('realtime') ? 'realtime' : (safe[0] ?? false);
}

/** ws's own test of a client's key: 16 bytes as base64. */
const KEY_PATTERN = /^[+/0-9A-Za-z]{22}==$/;

/**
 * Why ws would refuse this upgrade request, if it would (its checks, in its order), so it
 * is refused before a backend session is opened for it; undefined when it is well formed.
 */
export function handshakeProblem(http: IncomingMessage): string | undefined {
  const headers = http.headers;
  if (http.method !== 'GET' || headers.upgrade?.toLowerCase() !== 'websocket') {
    return 'A realtime session is a WebSocket: send GET with Upgrade: websocket';
  }
  const key = headers['sec-websocket-key'];
  if (key === undefined || !KEY_PATTERN.test(key)) {
    return 'Missing or invalid Sec-WebSocket-Key header';
  }
  const version = headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') {
    return 'Missing or invalid Sec-WebSocket-Version header (13)';
  }
  return undefined;
}

/**
 * The URL an upgrade request names, or undefined when its target is no URL at all: an
 * absolute-form target with a broken host (`GET http://[/v1/realtime`) passes Node's parser
 * but not `new URL`, whose throw in the server's upgrade listener ended the process.
 */
export function upgradeUrl(http: IncomingMessage): URL | undefined {
  return URL.parse(http.url ?? '/', 'http://gateway') ?? undefined;
}

/** The refusal of an upgrade request whose target is no URL (upgradeUrl). */
export const UNREADABLE_TARGET = 'The request target is not a URL the gateway can read';

/** Azure OpenAI's preview Realtime path, where a session names its deployment. */
const AZURE_PREVIEW_REALTIME_PATH = '/openai/realtime';

/**
 * The model a session names, if any: `?model=`, or on Azure OpenAI's preview path
 * `?deployment=` (the openai package's beta `OpenAIRealtimeWS.azure` connects to
 * `/openai/realtime?api-version=…&deployment=<name>`), the deployment being the virtual
 * model name as on the Azure edge's other calls.
 */
export function namedModel(url: URL): string | undefined {
  const model = url.searchParams.get('model');
  if (model) return model;
  if (url.pathname !== AZURE_PREVIEW_REALTIME_PATH) return undefined;
  return url.searchParams.get('deployment') || undefined;
}

/** The model a session asks for (`namedModel`), or a 400 naming `model`. */
export function requestedModel(url: URL): string {
  const model = namedModel(url);
  if (!model) {
    throw new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      "'model' is required: connect to /v1/realtime?model=<model>",
      { param: 'model' },
    );
  }
  return model;
}

/**
 * Answers an upgrade request with an HTTP error in OpenAI's shape, as a chat request
 * would get it, and closes the connection: nothing was upgraded.
 */
export function refuseUpgrade(socket: Duplex, error: DataPlaneError, requestId?: string): void {
  writeRefusal(socket, error.httpStatus, error.toOpenAiBody(), {
    ...error.headers,
    ...(error.retryAfterMs === undefined
      ? {}
      : { 'retry-after': String(Math.ceil(error.retryAfterMs / 1000)) }),
    ...(requestId === undefined ? {} : { 'x-request-id': requestId }),
  });
}

/** An HTTP answer written on the raw socket of an upgrade request, then the socket closed. */
export function writeRefusal(
  socket: Duplex,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(text)}`,
    'connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
}

/** The split ingress's answer: its router hop carries HTTP only, no WebSocket. */
export const REALTIME_NOT_SERVED = {
  error: {
    message:
      'Realtime sessions (/v1/realtime) are served by the all-in-one gateway only; this ' +
      'deployment (ingress, router and provider-adapter apart) does not carry WebSockets yet',
    type: 'invalid_request_error',
    code: 'realtime_not_served',
    param: null,
  },
} as const;
