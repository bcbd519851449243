import { Equals, IsEnum, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { GatewayEndpoint, LimitKind, RejectReason } from './event-enums';
import { RequestEventEnvelope } from './event-envelope';
import { Name } from './event-fields';

export const REQUEST_REJECTED = { type: 'request.rejected', version: 1 } as const;

/** Ingress refused a request; no provider was called. */
export class RequestRejected extends RequestEventEnvelope {
  @Equals(REQUEST_REJECTED.type)
  override type: typeof REQUEST_REJECTED.type = REQUEST_REJECTED.type;

  @Equals(REQUEST_REJECTED.version)
  override version: typeof REQUEST_REJECTED.version = REQUEST_REJECTED.version;

  /** Absent when the caller could not be identified. */
  @IsOptional()
  @Name()
  userId?: string;

  @IsEnum(GatewayEndpoint)
  endpoint!: GatewayEndpoint;

  @IsEnum(RejectReason)
  reason!: RejectReason;

  @IsInt()
  @Min(400)
  @Max(599)
  httpStatus!: number;

  @IsOptional()
  @Name()
  modelRequested?: string;

  @IsOptional()
  @Name()
  tier?: string;

  /** Which limit refused the request, for budget and rate-limit rejections. */
  @IsOptional()
  @IsEnum(LimitKind)
  limitKind?: LimitKind;

  /** The message the client was given (never contains secrets or prompt text). */
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  message?: string;
}
