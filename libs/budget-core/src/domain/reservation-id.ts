import { randomUUID } from 'node:crypto';

// A call's hold is taken in the windows of its admission; its usage event comes when the
// call ends, maybe in the next minute or day. The settlement must charge the windows the
// hold was in (those admission checked for room), so the id says when that was: a UUIDv7,
// whose first 48 bits are milliseconds since the epoch. Other ids (v4 from older builds, a
// batch's `batch-…`) say nothing, and their usage is charged when it occurred.

/** A new reservation id (UUIDv7) naming `admittedAt`, the time admission bound its limits at. */
export function newReservationId(admittedAt: number): string {
  const time = Math.max(0, Math.floor(admittedAt)).toString(16).padStart(12, '0');
  // randomUUID's cached entropy, its version nibble made 7; the variant bits stay RFC 4122's.
  const random = randomUUID();
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** When the hold of `reservationId` was taken, if the id says so (a UUIDv7). */
export function admittedAtOf(reservationId: string | undefined): number | undefined {
  if (reservationId === undefined || !UUID_V7.test(reservationId)) return undefined;
  return parseInt(reservationId.slice(0, 8) + reservationId.slice(9, 13), 16);
}
