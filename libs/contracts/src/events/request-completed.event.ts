import { Equals, IsBoolean, IsEnum, IsInt, IsOptional, Max, Min } from 'class-validator';
import { CompletionStatus, GatewayEndpoint } from './event-enums';
import { RequestEventEnvelope } from './event-envelope';
import { Amount, Count, Name } from './event-fields';

export const REQUEST_COMPLETED = { type: 'request.completed', version: 1 } as const;

/** An admitted request finished, well or badly; one per request. */
export class RequestCompleted extends RequestEventEnvelope {
  @Equals(REQUEST_COMPLETED.type)
  override type: typeof REQUEST_COMPLETED.type = REQUEST_COMPLETED.type;

  @Equals(REQUEST_COMPLETED.version)
  override version: typeof REQUEST_COMPLETED.version = REQUEST_COMPLETED.version;

  @Name()
  userId!: string;

  @IsEnum(GatewayEndpoint)
  endpoint!: GatewayEndpoint;

  @IsEnum(CompletionStatus)
  status!: CompletionStatus;

  /** Status sent to the client (0 if it went away before any was sent). */
  @IsInt()
  @Min(0)
  @Max(599)
  httpStatus!: number;

  /** Whole request, as seen by the gateway. */
  @Amount()
  latencyMs!: number;

  /** Time to the first byte of the response body; absent if none was sent. */
  @IsOptional()
  @Amount()
  ttfbMs?: number;

  /** Absent for cache hits and for requests that never reached a backend. */
  @IsOptional()
  @Name()
  provider?: string;

  @IsOptional()
  @Name()
  backend?: string;

  /**
   * The route of `backend` (backend names are unique only within a route). Absent with
   * the backend, and in events of older builds.
   */
  @IsOptional()
  @Name()
  route?: string;

  @Name()
  modelRequested!: string;

  @IsOptional()
  @Name()
  modelServed?: string;

  @IsBoolean()
  stream!: boolean;

  @IsBoolean()
  cached!: boolean;

  /** Backends tried, including the one that answered (0 for a cache hit). */
  @Count()
  attempts!: number;

  @IsOptional()
  @Name()
  tier?: string;

  /** A stable error code (never a raw upstream message) when status is not success. */
  @IsOptional()
  @Name(128)
  errorCode?: string;
}
