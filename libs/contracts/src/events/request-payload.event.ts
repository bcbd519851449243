import {
  Equals,
  IsBoolean,
  IsEnum,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { GatewayEndpoint } from './event-enums';
import { RequestEventEnvelope } from './event-envelope';
import { Amount, Count, EventTime, Name } from './event-fields';

export const REQUEST_PAYLOAD = { type: 'request.payload', version: 1 } as const;

/**
 * The most one body (request or answer) may hold, in UTF-8 bytes: a route's
 * `payloadLogging.maxBytes` is at most this, so an event stays under Kafka's 1 MB message.
 */
export const MAX_PAYLOAD_BYTES = 262_144;

/**
 * What a client asked and what it was answered, for a route with `payloadLogging` on: the
 * request body after the gateway's redaction (never a header or key), and the answer (a
 * JSON answer's body, or a stream's assembled text, tool calls and finish reasons), each
 * cut at the route's `maxBytes`. One per logged request, after it ended, on a topic of its
 * own with a short retention; the usage-sink stores it for the analytics API.
 */
export class RequestPayloadLogged extends RequestEventEnvelope {
  @Equals(REQUEST_PAYLOAD.type)
  override type: typeof REQUEST_PAYLOAD.type = REQUEST_PAYLOAD.type;

  @Equals(REQUEST_PAYLOAD.version)
  override version: typeof REQUEST_PAYLOAD.version = REQUEST_PAYLOAD.version;

  @Name()
  userId!: string;

  @IsEnum(GatewayEndpoint)
  endpoint!: GatewayEndpoint;

  @Name()
  modelRequested!: string;

  @IsOptional()
  @Name()
  modelServed?: string;

  @IsOptional()
  @Name()
  provider?: string;

  @IsOptional()
  @Name()
  backend?: string;

  @IsBoolean()
  stream!: boolean;

  /** Status sent to the client (0 if it went away before any was sent). */
  @IsInt()
  @Min(0)
  @Max(599)
  httpStatus!: number;

  /** A stable error code when the call failed (never a raw upstream message). */
  @IsOptional()
  @Name(128)
  errorCode?: string;

  /** When the request reached the gateway; `occurredAt` is when it ended. */
  @EventTime()
  startedAt!: string;

  /** The request body as JSON text, after redaction; cut at the route's maxBytes. */
  @IsString()
  @MaxLength(MAX_PAYLOAD_BYTES)
  requestBody!: string;

  @IsBoolean()
  requestTruncated!: boolean;

  /** The whole request body's size in UTF-8 bytes, before any cut. */
  @Count()
  requestBytes!: number;

  /** The answer: a JSON body's text or a stream's assembled answer ('' when none). */
  @IsString()
  @MaxLength(MAX_PAYLOAD_BYTES)
  responseBody!: string;

  @IsBoolean()
  responseTruncated!: boolean;

  /** The whole answer's size in UTF-8 bytes (of what was assembled), before any cut. */
  @Count()
  responseBytes!: number;

  @Amount()
  latencyMs!: number;
}
