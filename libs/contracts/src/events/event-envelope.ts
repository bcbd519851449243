import { IsInt, IsOptional, IsUUID, Min } from 'class-validator';
import { EventTime, Name } from './event-fields';

/**
 * Fields every event carries. `eventId` makes consumers idempotent; `partitionKey` is the
 * user (budget) key, so one user's events stay ordered on one partition.
 */
export abstract class EventEnvelope {
  @IsUUID()
  eventId!: string;

  @Name(64)
  type!: string;

  @IsInt()
  @Min(1)
  version!: number;

  @EventTime()
  occurredAt!: string;

  @Name()
  partitionKey!: string;
}

/** Events caused by one client request. */
export abstract class RequestEventEnvelope extends EventEnvelope {
  @Name(128)
  requestId!: string;
}

/** Events that a request may trigger but a window rollover can too (then `requestId` is null). */
export abstract class StateEventEnvelope extends EventEnvelope {
  @IsOptional()
  @Name(128)
  requestId!: string | null;
}
