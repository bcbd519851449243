import { Equals, IsBoolean, IsEnum, IsOptional } from 'class-validator';
import { GatewayEndpoint } from './event-enums';
import { RequestEventEnvelope } from './event-envelope';
import { Count, Name } from './event-fields';

export const REQUEST_ACCEPTED = { type: 'request.accepted', version: 1 } as const;

/** Ingress admitted a request (and reserved its worst-case cost, if budgets apply). */
export class RequestAccepted extends RequestEventEnvelope {
  @Equals(REQUEST_ACCEPTED.type)
  override type: typeof REQUEST_ACCEPTED.type = REQUEST_ACCEPTED.type;

  @Equals(REQUEST_ACCEPTED.version)
  override version: typeof REQUEST_ACCEPTED.version = REQUEST_ACCEPTED.version;

  @Name()
  userId!: string;

  @IsEnum(GatewayEndpoint)
  endpoint!: GatewayEndpoint;

  @Name()
  modelRequested!: string;

  @IsBoolean()
  stream!: boolean;

  @IsOptional()
  @Name()
  tier?: string;

  @IsOptional()
  @Name(128)
  reservationId?: string;

  /** Weighted tokens held by the reservation (prompt estimate plus max output). */
  @IsOptional()
  @Count()
  reservedTokens?: number;

  @IsOptional()
  @Count()
  estimatedInputTokens?: number;
}
