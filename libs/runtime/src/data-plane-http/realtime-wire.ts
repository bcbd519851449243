import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  decodeServedBy,
  encodeInvokeRequest,
  encodeRouteRequest,
  encodeWireError,
  MAX_REALTIME_FRAME_BYTES,
  routeMissingAtPeer,
  WIRE_VERSION,
  WIRE_VERSION_HEADER,
  wireVersionError,
  type GatewayRequest,
  type RealtimeCall,
  type RealtimeConnection,
  type RealtimeFrame,
  type RealtimeListener,
  type RealtimeProvider,
  type RealtimeRouter,
  type ServedBy,
  isOversizedFrameError,
  realtimeFrameOf,
} from '@aigw/contracts/data-plane';
import {
  admitInternalCall,
  decodePeerError,
  INTERNAL_TOKEN_HEADER,
  internalAuthRefusal,
  type InternalToken,
  type WireAuth,
} from './internal-auth';
import { routerConfigSkew, type ConfigSkewCheck } from './config-skew';

/** The internal hop of a Realtime session: a WebSocket, ingress to router to provider-adapter. */
export const REALTIME_WIRE_PATH = '/wire/realtime';
/** The wire message (`{request}` or `{request, target}`), base64url JSON: a header, as a WebSocket has no body. */
const MESSAGE_HEADER = 'x-aigw-wire-message';
/** The backend that took the session, in the upgrade's answer (base64url JSON). */
const SERVED_BY_HEADER = 'x-aigw-served-by';
/**
 * How long the ingress waits for the router to answer a session's handshake by default: long
 * enough for a failover across a few backends, each bounded by its firstByteTimeout, yet
 * bounded, so a hung router refuses the client rather than holding it forever. A deployment
 * with longer chains or slower backends sets AI_GATEWAY_REALTIME_HOP_HANDSHAKE_MS.
 */
export const ROUTER_HOP_TIMEOUT_MS = 60_000;
/**
 * The router waits for the adapter a backend's own timeout (a call's requestTimeout, a
 * stream's or Realtime handshake's firstByteTimeout) and this, so that the adapter's own
 * timeout, naming the backend, is what the client hears.
 */
export const PROVIDER_HOP_GRACE_MS = 2_000;

const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const decode = (text: string) =>
  JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;

/** The close codes a peer may send (RFC 6455 7.4); 1005 and 1006 (none, dropped) become 1011. */
function sendable(code: number): number {
  const valid =
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
  return valid ? code : 1011;
}

/**
 * Opens a session at the peer's `REALTIME_WIRE_PATH`: the wire message rides in a header,
 * a refusal comes back as the wire's HTTP error (decoded as HTTP hops decode it), and the
 * frames then pass both ways as they are.
 */
function openHop(
  base: URL,
  message: string,
  peer: string,
  unreachable: DataPlaneErrorCode,
  listener: RealtimeListener,
  signal: AbortSignal,
  timeoutMs: number,
  token: InternalToken | undefined,
): Promise<RealtimeConnection> {
  const url = new URL(REALTIME_WIRE_PATH, base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(url, {
    headers: {
      [WIRE_VERSION_HEADER]: WIRE_VERSION,
      [MESSAGE_HEADER]: encode(message),
      ...token?.headers(),
    },
    perMessageDeflate: false,
    maxPayload: MAX_REALTIME_FRAME_BYTES,
    // ws's default, kept explicit: the upgrade carries the internal token, so a peer's 3xx
    // is refused (decodePeerError names it), never followed to where it points.
    followRedirects: false,
    // Until the peer answers the upgrade: past it, refused as an unreachable peer is.
    handshakeTimeout: timeoutMs,
  });
  return new Promise<RealtimeConnection>((resolve, reject) => {
    let servedBy: ServedBy | undefined;
    let settled = false;
    const fail = (error: DataPlaneError) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', abort);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.terminate();
      reject(error);
    };
    const abort = () =>
      fail(new DataPlaneError(DataPlaneErrorCode.Internal, 'the client disconnected'));
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    socket.once('upgrade', (response) => {
      const header = response.headers[SERVED_BY_HEADER];
      try {
        servedBy = typeof header === 'string' ? decodeServedBy(decode(header)) : undefined;
      } catch {
        servedBy = undefined;
      }
    });
    socket.once('unexpected-response', (_request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', () => undefined);
      response.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = undefined;
        }
        fail(routeMissingAtPeer(decodePeerError(body, response.statusCode ?? 502, peer), peer));
      });
    });
    socket.on('error', (error) =>
      fail(
        new DataPlaneError(
          unreachable,
          `the ${peer} could not be reached for a realtime session` +
            (/timed out/i.test(error.message) ? ` in ${timeoutMs} ms` : ''),
          { cause: error },
        ),
      ),
    );
    socket.once('open', () => {
      if (!servedBy) {
        return fail(
          new DataPlaneError(
            DataPlaneErrorCode.UpstreamBadResponse,
            `the ${peer} opened a realtime session without naming its backend`,
          ),
        );
      }
      settled = true;
      signal.removeEventListener('abort', abort);
      socket.on('message', (data, binary) => listener.frame(realtimeFrameOf(data, binary)));
      let oversized = false;
      socket.on('error', (error) => (oversized ||= isOversizedFrameError(error)));
      socket.once('close', (code, reason) =>
        oversized
          ? listener.closed(1009, 'frame too big')
          : listener.closed(code, reason.toString('utf8')),
      );
      resolve({
        servedBy,
        send: (frame) => {
          if (socket.readyState === WebSocket.OPEN) socket.send(frame);
        },
        close: (code = 1000, reason = '') => {
          if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
            socket.close(sendable(code), reason);
          }
        },
      });
    });
  });
}

/** The router as the ingress service sees it for Realtime sessions (ROUTER_URL). */
export class RealtimeRouterClient implements RealtimeRouter {
  constructor(
    private readonly url: URL,
    private readonly token?: InternalToken,
    /** The router's handshake bound (`realtimeHopHandshakeMs`). */
    private readonly handshakeTimeoutMs: number = ROUTER_HOP_TIMEOUT_MS,
    /** The ingress's own view of the config (see HttpRouterClient's). */
    private readonly configSkew?: ConfigSkewCheck,
  ) {}

  connectRealtime(
    request: GatewayRequest,
    listener: RealtimeListener,
    signal: AbortSignal,
  ): Promise<RealtimeConnection> {
    const opened = openHop(
      this.url,
      encodeRouteRequest(request),
      'router',
      DataPlaneErrorCode.Internal,
      listener,
      signal,
      this.handshakeTimeoutMs,
      this.token,
    );
    const skew = this.configSkew;
    return skew
      ? opened.catch((error: unknown) => {
          throw routerConfigSkew(error, request.requestedModel, skew);
        })
      : opened;
  }
}

/**
 * The provider-adapter as the router service sees it for Realtime sessions
 * (PROVIDER_ADAPTER_URL): only the backend's name and model cross; the adapter adds the key.
 */
export class RealtimeProviderClient implements RealtimeProvider {
  constructor(
    private readonly url: URL,
    private readonly token?: InternalToken,
  ) {}

  connectRealtime(call: RealtimeCall): Promise<RealtimeConnection> {
    const { request, target } = call;
    const wireTarget = {
      backendName: target.backendName,
      routeName: target.routeName,
      provider: target.provider,
      model: target.model,
    };
    return openHop(
      this.url,
      encodeInvokeRequest(request, wireTarget),
      'provider-adapter',
      DataPlaneErrorCode.UpstreamError,
      call.listener,
      call.signal,
      target.firstByteTimeoutMs + PROVIDER_HOP_GRACE_MS,
      this.token,
    );
  }
}

/** Opens the session a hop asks for, from its decoded wire message. */
export type RealtimeOpener = (
  message: unknown,
  listener: RealtimeListener,
  signal: AbortSignal,
) => Promise<RealtimeConnection>;

/** A wire error answered on the raw socket of an upgrade request, then closed. */
function refuse(socket: Duplex, error: DataPlaneError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(encodeWireError(error));
  const status = error.httpStatus;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'content-type: application/json\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * Serves the Realtime hop on a wire server's HTTP server: each upgrade of
 * `REALTIME_WIRE_PATH` is opened with `open` (the router's routing, the adapter's
 * metered connector) before the upgrade is answered, so a refusal travels back as the
 * wire's HTTP error; then the frames and the close pass both ways. `close` (before the
 * server closes, which waits for upgraded sockets) ends every session with 1001. With
 * `auth`, an upgrade without the internal token is refused (401) before anything else.
 */
export function serveRealtimeWire(
  server: Server,
  open: RealtimeOpener,
  auth?: WireAuth,
): { close(): void } {
  const sockets = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_REALTIME_FRAME_BYTES,
  });
  const relays = new Set<HopRelay>();
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    // A target that is no URL (`GET http://[/…`) passes Node's parser: a throw here, in the
    // server's listener, would end the process.
    const path = URL.parse(request.url ?? '/', 'http://wire')?.pathname;
    if (path === undefined) {
      return refuse(
        socket,
        new DataPlaneError(DataPlaneErrorCode.InvalidRequest, 'the request target is not a URL'),
      );
    }
    if (auth) {
      const refused = admitInternalCall(
        auth,
        request.headers[INTERNAL_TOKEN_HEADER],
        path,
        request.socket.remoteAddress,
      );
      if (refused) return refuse(socket, internalAuthRefusal(refused));
    }
    if (path !== REALTIME_WIRE_PATH) {
      return refuse(
        socket,
        new DataPlaneError(DataPlaneErrorCode.UnknownUrl, `no wire route ${path}`),
      );
    }
    const version = request.headers[WIRE_VERSION_HEADER];
    if (version !== WIRE_VERSION) return refuse(socket, wireVersionError(version, 'the caller'));
    let message: unknown;
    try {
      const header = request.headers[MESSAGE_HEADER];
      if (typeof header !== 'string') throw new Error('no message');
      message = decode(header);
    } catch {
      return refuse(
        socket,
        new DataPlaneError(
          DataPlaneErrorCode.InvalidRequest,
          'the realtime wire message is not JSON',
        ),
      );
    }
    const abort = new AbortController();
    const gone = () => abort.abort(new Error('the caller disconnected'));
    socket.once('close', gone);
    const relay = new HopRelay(() => relays.delete(relay));
    // A message the opener cannot read throws at once: answered as a refusal like the rest.
    Promise.resolve()
      .then(() => open(message, relay.listener, abort.signal))
      .then(
        (connection) => {
          socket.off('close', gone);
          if (abort.signal.aborted || !socket.writable) return connection.close(1001);
          const served = encode(JSON.stringify(connection.servedBy));
          const name = (headers: string[]) => headers.push(`${SERVED_BY_HEADER}: ${served}`);
          sockets.once('headers', name);
          let attached = false;
          sockets.handleUpgrade(request, socket, head, (ws) => {
            attached = true;
            relays.add(relay);
            relay.attach(ws, connection);
          });
          // ws refused it itself (the caller half closed): end the session behind it, and
          // keep this session's name off the next upgrade's answer.
          if (!attached) {
            sockets.off('headers', name);
            connection.close(1001);
          }
        },
        (error: unknown) => {
          socket.off('close', gone);
          const mapped =
            error instanceof DataPlaneError
              ? error
              : new DataPlaneError(DataPlaneErrorCode.Internal, 'the realtime session failed', {
                  cause: error,
                });
          if (abort.signal.aborted) socket.destroy();
          else refuse(socket, mapped);
        },
      );
  });
  return {
    close: () => {
      sockets.close(); // a handshake under way is refused (503); its session closed above
      for (const relay of [...relays]) relay.shutdown();
    },
  };
}

/** Pipes one hop: the caller's socket and the session behind it, closes carried across. */
class HopRelay {
  private ws?: WebSocket;
  private connection?: RealtimeConnection;
  private readonly waiting: RealtimeFrame[] = [];
  private gone?: { code: number; reason: string };

  constructor(private readonly ended: () => void) {}

  readonly listener: RealtimeListener = {
    frame: (frame) => {
      if (!this.ws) this.waiting.push(frame);
      else if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
    },
    closed: (code, reason) => {
      if (!this.ws) this.gone = { code, reason };
      else this.closeCaller(code, reason);
    },
  };

  attach(ws: WebSocket, connection: RealtimeConnection): void {
    this.ws = ws;
    this.connection = connection;
    let oversized = false;
    ws.on('error', (error) => (oversized ||= isOversizedFrameError(error)));
    ws.on('message', (data, binary) => connection.send(realtimeFrameOf(data, binary)));
    ws.once('close', (code, reason) => {
      this.ended();
      if (oversized) connection.close(1009, 'frame too big');
      else connection.close(sendable(code), reason.toString('utf8'));
    });
    for (const frame of this.waiting.splice(0)) ws.send(frame);
    if (this.gone) this.closeCaller(this.gone.code, this.gone.reason);
  }

  /** This service is stopping: both sides are told it is going away. */
  shutdown(): void {
    this.connection?.close(1001, 'shutting down');
    this.closeCaller(1001, 'shutting down');
  }

  private closeCaller(code: number, reason: string): void {
    const ws = this.ws!;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
      ws.close(sendable(code), Buffer.byteLength(reason) <= 123 ? reason : '');
    }
  }
}
