import { Pool, type Dispatcher } from 'undici';
import {
  AnswerTooLargeError,
  dispatchBuffered,
  isTimeoutError,
  type BufferedResponse,
} from '@aigw/infra/http';
import {
  badAnswer,
  DataPlaneError,
  DataPlaneErrorCode,
  decodeJsonAnswer,
  decodeServedBy,
  decodeUsage,
  decodeWireError,
  FrameTag,
  frameLines,
  framePayload,
  routeMissingAtPeer,
  SERVED_BY_HEADER,
  WIRE_JSON,
  WIRE_PATHS,
  WIRE_STREAM,
  WIRE_VERSION,
  WIRE_VERSION_HEADER,
  wireVersionError,
  type GatewayAnswer,
  type JsonObject,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import {
  decodePeerError,
  isRedirectStatus,
  peerRedirect,
  type InternalToken,
} from './internal-auth';
import { envelopeWithBodyText } from './relayed-json-body';

export interface WireClientOptions {
  /** The peer's base URL (ROUTER_URL, PROVIDER_ADAPTER_URL). */
  readonly url: URL;
  /** How the peer is named in errors and logs: "router", "provider-adapter". */
  readonly peer: string;
  /** The code for "could not reach the peer at all". */
  readonly unreachableCode: DataPlaneErrorCode;
  /** Upper bound of sockets to the peer; each in-flight stream holds one. */
  readonly connections?: number;
  /** AI_GATEWAY_INTERNAL_TOKEN, sent on every call when set. */
  readonly token?: InternalToken;
  /**
   * Parse every JSON answer's body at once (the edge reads them all). Otherwise a body the
   * peer marked is kept as its text until something reads it, and written on as that text.
   */
  readonly parseAnswerBodies?: boolean;
}

/** One peer's call pool: sockets open, carrying a call, and calls waiting for a socket. */
export interface PeerPoolState {
  readonly peer: string;
  readonly open: number;
  readonly busy: number;
  readonly waiting: number;
}

export interface WireCall {
  readonly path: string;
  readonly body: string;
  readonly signal: AbortSignal;
  /** Whether the request asks for a stream; a plain answer is read whole, with no stream. */
  readonly stream: boolean;
  /** Longest wait for the answer's headers, and between two body reads. */
  readonly timeoutMs: number;
  /** Builds a stream chunk from its frame line. */
  readonly chunk: (line: Buffer) => JsonObject;
  /** Sent with this call beside the client's own (version, token). */
  readonly headers?: Readonly<Record<string, string>>;
}

const REQUEST_HEADERS = { 'content-type': WIRE_JSON, [WIRE_VERSION_HEADER]: WIRE_VERSION };
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/**
 * Above any answer a peer passes on (a backend's complete answer is capped at 256 MiB, and
 * the envelope adds little), and below V8's longest string (~512 MiB), which it is read into.
 */
const MAX_ANSWER_BYTES = 320 * 1024 * 1024;
/**
 * How many more times a call the peer hung up on before any answer is sent (each on the
 * pool's next connection, a new one once the closed ones are gone).
 */
const HANG_UP_RESENDS = 2;
const NO_USAGE: TokenUsage = {
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  source: 'estimated',
};

/**
 * One peer of the data plane over HTTP/1.1 keep-alive: a bounded pool of sockets that
 * stay open between requests, answers decoded from the wire format, bodies streamed
 * through as they arrive, and the caller's abort cancelling the peer's work.
 */
export class WireClient {
  private readonly pool: Pool;
  /**
   * The health probe's own socket: on the call pool it would wait behind every stream in
   * flight once all its sockets are busy, and a busy service whose peer is fine would fail
   * its readiness and leave rotation, every replica at once under load.
   */
  private readonly probePool: Pool;
  private readonly origin: string;
  private readonly prefix: string;
  private readonly peerName: string;
  private readonly headers: Readonly<Record<string, string>>;

  constructor(private readonly options: WireClientOptions) {
    this.pool = new Pool(options.url.origin, {
      connections: options.connections ?? 256,
      pipelining: 1,
      // Below the wire server's 65 s, so the client always closes an idle socket first.
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
    });
    this.probePool = new Pool(options.url.origin, {
      connections: 1,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
    });
    this.origin = options.url.origin;
    this.prefix = options.url.pathname.replace(/\/+$/, '');
    this.peerName = `${options.peer} at ${options.url.origin}`;
    this.headers = options.token
      ? { ...REQUEST_HEADERS, ...options.token.headers() }
      : REQUEST_HEADERS;
  }

  call(call: WireCall): Promise<GatewayAnswer> {
    return call.stream ? this.streamCall(call) : this.jsonCall(call);
  }

  /** A plain answer, read whole: the peer answers a request without `stream` in JSON. */
  private async jsonCall(call: WireCall, resends = HANG_UP_RESENDS): Promise<GatewayAnswer> {
    let response: BufferedResponse;
    let answered = false;
    try {
      response = await dispatchBuffered(this.pool, {
        origin: this.origin,
        path: this.prefix + call.path,
        method: 'POST',
        headers: call.headers ? { ...this.headers, ...call.headers } : this.headers,
        body: call.body,
        headersTimeoutMs: call.timeoutMs,
        bodyTimeoutMs: call.timeoutMs,
        signal: call.signal,
        maxErrorBodyBytes: MAX_ERROR_BODY_BYTES,
        maxBodyBytes: MAX_ANSWER_BYTES,
        onHeaders: () => (answered = true),
      });
    } catch (error) {
      if (error instanceof AnswerTooLargeError) throw badAnswer(this.peerName, error);
      if (!answered && resends > 0 && hungUpBeforeAnswer(error, call.signal)) {
        return this.jsonCall(call, resends - 1);
      }
      throw this.transportFailure(error, call.signal, answered ? 'json' : 'connect');
    }
    // undici's Pool follows no redirect; a 3xx (from anything, wire peer or not) is named as one.
    if (isRedirectStatus(response.statusCode)) {
      throw peerRedirect(response.statusCode, this.options.peer);
    }
    const version = response.headers[WIRE_VERSION_HEADER];
    if (version !== WIRE_VERSION) throw wireVersionError(version, this.peerName);
    if (response.statusCode >= 400) {
      throw this.refusal(parseOrUndefined(response.body), response.statusCode);
    }
    if (response.headers['content-type'] === WIRE_STREAM) {
      throw badAnswer(this.peerName, new Error('a stream for a request without stream'));
    }
    let body: unknown;
    try {
      body =
        (this.options.parseAnswerBodies
          ? undefined
          : envelopeWithBodyText(response.body, response.headers)) ?? JSON.parse(response.body);
    } catch (error) {
      throw badAnswer(this.peerName, error);
    }
    return decodeJsonAnswer(body, this.peerName);
  }

  private async streamCall(call: WireCall, resends = HANG_UP_RESENDS): Promise<GatewayAnswer> {
    let response: Dispatcher.ResponseData;
    try {
      response = await this.pool.request({
        path: this.prefix + call.path,
        method: 'POST',
        headers: call.headers ? { ...this.headers, ...call.headers } : this.headers,
        body: call.body,
        signal: call.signal,
        headersTimeout: call.timeoutMs,
        bodyTimeout: call.timeoutMs,
      });
    } catch (error) {
      // Rejected before the answer's headers: nothing of it was read.
      if (resends > 0 && hungUpBeforeAnswer(error, call.signal)) {
        return this.streamCall(call, resends - 1);
      }
      throw this.transportFailure(error, call.signal);
    }
    if (isRedirectStatus(response.statusCode)) {
      discard(response.body);
      throw peerRedirect(response.statusCode, this.options.peer);
    }
    const version = response.headers[WIRE_VERSION_HEADER];
    if (version !== WIRE_VERSION) {
      discard(response.body);
      throw wireVersionError(version, this.peerName);
    }
    if (response.statusCode >= 400) throw await this.errorAnswer(response, call.signal);
    const type = response.headers['content-type'];
    if (type === WIRE_STREAM) return this.streamAnswer(response, call);
    let body: unknown;
    try {
      body = await response.body.json();
    } catch (error) {
      throw this.transportFailure(error, call.signal, 'json');
    }
    return decodeJsonAnswer(body, this.peerName);
  }

  /**
   * Whether the peer answers its health route in this wire version, within `timeoutMs`
   * all told (connecting included: a readiness check must answer before the kubelet's
   * probe times out), whatever the calls in flight.
   */
  async probe(timeoutMs = 2_000): Promise<boolean> {
    try {
      const response = await this.probePool.request({
        path: this.prefix + WIRE_PATHS.health,
        method: 'GET',
        headers: this.headers,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body.dump();
      return response.statusCode === 200 && response.headers[WIRE_VERSION_HEADER] === WIRE_VERSION;
    } catch {
      return false;
    }
  }

  /**
   * The call pool's sockets and the calls waiting for one (the probe's socket apart): once
   * `connections` streams are in flight, the next call waits, however long they last.
   */
  poolState(): PeerPoolState {
    const { connected, running, queued } = this.pool.stats;
    return { peer: this.options.peer, open: connected, busy: running, waiting: queued };
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.close(), this.probePool.close()]);
  }

  private async errorAnswer(
    response: Dispatcher.ResponseData,
    signal: AbortSignal,
  ): Promise<unknown> {
    // Decoded once joined: a character cut between two reads would be U+FFFD in each half.
    const pieces: Buffer[] = [];
    let bytes = 0;
    try {
      for await (const piece of response.body) {
        pieces.push(piece as Buffer);
        bytes += (piece as Buffer).length;
        if (bytes >= MAX_ERROR_BODY_BYTES) break;
      }
    } catch {
      if (signal.aborted) return signal.reason;
    }
    const text = Buffer.concat(pieces, bytes).toString('utf8');
    return this.refusal(parseOrUndefined(text), response.statusCode);
  }

  /** A peer's error answer; a wire route it lacks is a peer of another release. */
  private refusal(body: unknown, status: number): DataPlaneError {
    return routeMissingAtPeer(decodePeerError(body, status, this.options.peer), this.options.peer);
  }

  private streamAnswer(response: Dispatcher.ResponseData, call: WireCall): GatewayAnswer {
    let servedBy;
    try {
      const header = response.headers[SERVED_BY_HEADER];
      servedBy = decodeServedBy(JSON.parse(decodeURIComponent(String(header))));
    } catch (error) {
      discard(response.body);
      throw badAnswer(this.peerName, error);
    }
    let settle!: (usage: TokenUsage) => void;
    const usage = new Promise<TokenUsage>((resolve) => (settle = resolve));
    const events = this.frames(response.body, call, settle);
    return { kind: 'stream', status: 200, servedBy, usage, events };
  }

  /**
   * Chunks until the end frame. The body is read to its end even after the end or error
   * frame, so the socket goes back to the pool instead of being closed.
   */
  private async *frames(
    body: Dispatcher.ResponseData['body'],
    call: WireCall,
    settle: (usage: TokenUsage) => void,
  ): AsyncGenerator<JsonObject> {
    let usage: TokenUsage | undefined;
    let failure: DataPlaneError | undefined;
    try {
      for await (const line of frameLines(body)) {
        if (usage || failure) continue;
        switch (line[0]) {
          case FrameTag.Chunk:
            yield call.chunk(line);
            break;
          case FrameTag.End:
            usage = decodeUsage(framePayload(line));
            break;
          case FrameTag.Error:
            failure = decodeWireError(framePayload(line), 502);
            break;
          default:
            throw badAnswer(
              this.peerName,
              new Error(`unknown frame "${String.fromCharCode(line[0] ?? 0)}"`),
            );
        }
      }
    } catch (error) {
      throw this.transportFailure(error, call.signal, 'stream');
    } finally {
      settle(usage ?? NO_USAGE);
    }
    if (failure) throw failure;
    if (!usage) {
      throw new DataPlaneError(
        DataPlaneErrorCode.StreamInterrupted,
        `the ${this.peerName} ended the stream before it finished`,
      );
    }
  }

  /** Transport trouble as a data-plane error, so failover and the edge treat it as such. */
  private transportFailure(
    error: unknown,
    signal: AbortSignal,
    stage: 'connect' | 'json' | 'stream' = 'connect',
  ): unknown {
    if (error instanceof DataPlaneError) return error;
    // A caller that went away is not the peer's fault: let the abort propagate.
    if (signal.aborted) return signal.reason ?? error;
    if (isTimeoutError(error)) {
      return new DataPlaneError(
        DataPlaneErrorCode.UpstreamTimeout,
        `the ${this.peerName} did not answer in time`,
        { cause: error },
      );
    }
    const code = (error as { code?: unknown }).code;
    const reason = typeof code === 'string' ? code : 'connection failed';
    if (stage !== 'connect') {
      // A broken JSON answer may fail over; a broken stream may only before its first chunk.
      return new DataPlaneError(
        stage === 'stream'
          ? DataPlaneErrorCode.StreamInterrupted
          : DataPlaneErrorCode.UpstreamError,
        `the connection to the ${this.peerName} broke mid-answer (${reason})`,
        { cause: error },
      );
    }
    return new DataPlaneError(
      this.options.unreachableCode,
      `the ${this.peerName} is unreachable (${reason})`,
      { cause: error },
    );
  }
}

/**
 * Whether the peer hung up before any answer: mostly a kept-alive connection it was closing
 * as idle (its drain in a rolling upgrade: closeDraining's sweep) just as the call went out
 * on it, which the peer never read (its sweep spares a connection whose call it has begun
 * reading). Sent again, as Go's transport does for a server that closed an idle connection.
 * The wire servers set no timeout that hangs up a call, so otherwise only a peer that died
 * (crash, OOM or SIGKILL) or a reset on the path between (a proxy restarting) looks the same,
 * possibly after the peer began the provider call: resent, the provider may get it again,
 * as it would from the failover or the SDK's retry of the 503 that the call would get.
 */
function hungUpBeforeAnswer(error: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return false;
  const code = (error as { code?: unknown }).code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE';
}

/** Reads and drops a body we will not use, so its socket can serve the next request. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.dump({ limit: MAX_ERROR_BODY_BYTES }).catch(() => undefined);
}

/** An error body's JSON, or undefined when it is none (then classified by status alone). */
function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
