/**
 * What a hold was taken for, read off its reservation id so a store tells lapsed holds
 * apart without keeping anything per hold: a batch's id starts with this prefix, a call's
 * is a bare UUID.
 */
export const BATCH_HOLD_PREFIX = 'batch-';

export type HoldKind = 'batch' | 'call';

export function holdKind(reservationId: string): HoldKind {
  return reservationId.startsWith(BATCH_HOLD_PREFIX) ? 'batch' : 'call';
}

/**
 * Told of holds that lapsed (nothing settled or released them in time), once each, when
 * the store drops them: both stores drop lapsed holds lazily, on a later reservation.
 */
export type HoldLapseListener = (kind: HoldKind, count: number) => void;
