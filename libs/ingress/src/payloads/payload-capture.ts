import type { PayloadLoggingConfig } from '@aigw/config';
import type { GatewayEndpoint } from '@aigw/contracts';
import type { GatewayRequest, JsonObject, Operation, ServedBy } from '@aigw/contracts/data-plane';
import { cutJson } from './cut-json';
import { cutText, NO_TEXT, type CutText } from './cut-text';
import { StreamAnswer } from './stream-answer';

/** A route's payload logging, with the route's name (for metrics). */
export interface RoutePayloadLogging extends PayloadLoggingConfig {
  readonly route: string;
}

/** What the edge hands its observer for one logged request. */
export interface LoggedPayload {
  readonly route: string;
  readonly endpoint: GatewayEndpoint;
  readonly request: GatewayRequest;
  readonly servedBy?: ServedBy;
  /** Status sent to the client (0 if it left before any was sent). */
  readonly httpStatus: number;
  readonly errorCode?: string;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly latencyMs: number;
  readonly requestBody: CutText;
  readonly responseBody: CutText;
}

/**
 * The operations whose bodies are JSON both ways and so make sense as text: audio, image
 * uploads (multipart files) and speech (audio bytes) are not logged.
 */
const LOGGED_OPERATIONS: ReadonlySet<Operation> = new Set<Operation>([
  'chat',
  'completions',
  'embeddings',
  'images',
  'moderations',
  'rerank',
]);

/**
 * One request's payload on its way through the edge: the request body as the router gets
 * it (after redaction, so masked text stays masked; headers are never part of it), then
 * the answer, a JSON body whole or a stream assembled from its chunks, each cut at the
 * route's maxBytes.
 */
export class PayloadCapture {
  private readonly requestBody: CutText;
  private answerBody: CutText = NO_TEXT;
  private stream?: StreamAnswer;

  private constructor(
    private readonly logging: RoutePayloadLogging,
    private readonly endpoint: GatewayEndpoint,
    private readonly request: GatewayRequest,
  ) {
    // The body was parsed from the client's JSON and may have been redacted since: text
    // of it is made only here, for a request that is logged, and only up to maxBytes.
    this.requestBody = cutJson(request.body, logging.maxBytes);
  }

  /**
   * The capture of a request on a route that logs payloads, or undefined: not logged for
   * its operation, or not drawn by the route's sampleRate (`onSampledOut` is told).
   */
  static start(
    logging: RoutePayloadLogging,
    endpoint: GatewayEndpoint,
    request: GatewayRequest,
    onSampledOut: (route: string) => void,
    random: () => number = Math.random,
  ): PayloadCapture | undefined {
    if (!LOGGED_OPERATIONS.has(request.operation)) return undefined;
    if (logging.sampleRate < 1 && !(random() < logging.sampleRate)) {
      onSampledOut(logging.route);
      return undefined;
    }
    return new PayloadCapture(logging, endpoint, request);
  }

  /** A complete answer's body as sent (an object, or text for a text media type). */
  answer(body: unknown): void {
    if (Buffer.isBuffer(body) || body instanceof Uint8Array) return;
    this.answerBody =
      typeof body === 'string'
        ? cutText(body, this.logging.maxBytes)
        : cutJson(body, this.logging.maxBytes);
  }

  /** One canonical chunk of a streamed answer. */
  chunk(chunk: JsonObject): void {
    (this.stream ??= new StreamAnswer(this.logging.maxBytes)).add(chunk);
  }

  /** What is logged, once the request ended (`startedAt` in `performance.now()` time). */
  finish(
    outcome: { httpStatus: number; errorCode?: string; servedBy?: ServedBy },
    startedAt: number,
  ): LoggedPayload {
    const now = performance.now();
    const latencyMs = Math.max(0, Math.round(now - startedAt));
    return {
      route: this.logging.route,
      endpoint: this.endpoint,
      request: this.request,
      ...outcome,
      startedAt: Date.now() - latencyMs,
      latencyMs,
      requestBody: this.requestBody,
      responseBody: this.stream ? this.streamed(this.stream) : this.answerBody,
    };
  }

  private streamed(stream: StreamAnswer): CutText {
    const { json, droppedBytes } = stream.assemble();
    const cut = cutText(json, this.logging.maxBytes);
    return droppedBytes === 0
      ? cut
      : { text: cut.text, truncated: true, bytes: cut.bytes + droppedBytes };
  }
}
