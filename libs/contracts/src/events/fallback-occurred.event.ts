import { Equals, IsEnum, IsInt, IsOptional, Max, Min } from 'class-validator';
import { FallbackReason } from './event-enums';
import { RequestEventEnvelope } from './event-envelope';
import { Count, Name } from './event-fields';

export const FALLBACK_OCCURRED = { type: 'fallback.occurred', version: 1 } as const;

/** The router gave up on one backend and moved the request to the next. */
export class FallbackOccurred extends RequestEventEnvelope {
  @Equals(FALLBACK_OCCURRED.type)
  override type: typeof FALLBACK_OCCURRED.type = FALLBACK_OCCURRED.type;

  @Equals(FALLBACK_OCCURRED.version)
  override version: typeof FALLBACK_OCCURRED.version = FALLBACK_OCCURRED.version;

  @Name()
  userId!: string;

  @Name()
  modelRequested!: string;

  @Name()
  fromBackend!: string;

  @Name()
  fromProvider!: string;

  @Name()
  fromModel!: string;

  @Name()
  toBackend!: string;

  @Name()
  toProvider!: string;

  @Name()
  toModel!: string;

  @IsEnum(FallbackReason)
  reason!: FallbackReason;

  /** 1 for the first failover of a request. */
  @Count()
  @Min(1)
  attempt!: number;

  /** Upstream status that triggered it, when there was one. */
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(599)
  upstreamStatus?: number;
}
