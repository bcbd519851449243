import type { FlightEvent } from './domain/flight';

/**
 * The entries a leader appends to its flight's Redis Stream, as field lists:
 * - `b 1` (`r 0` added on the first when the leader said no-store): alive, no events;
 *   `s <seq>` added once batches were sent: the last one's number (a follower that has
 *   not read it by then never will: it was lost);
 * - `n <seq> e <events JSON>`: the events of one tick, numbered 1, 2, 3, ... so a follower
 *   can tell a batch that never reached Redis (the leader lost its connection meanwhile)
 *   from one it has not been sent yet;
 * - `x 1`, after the call's last batch: a write failed, so the stream may miss events.
 */
export const aliveEntry = (retained: boolean, lastSeq = 0): string[] => [
  'b',
  '1',
  ...(retained ? [] : ['r', '0']),
  ...(lastSeq > 0 ? ['s', String(lastSeq)] : []),
];
export const eventsEntry = (seq: number, events: readonly string[]): string[] => [
  'n',
  String(seq),
  'e',
  `[${events.join(',')}]`,
];
export const brokenEntry = (): string[] => ['x', '1'];

/** What a follower takes from one entry, given the batch number it expects next. */
export type ReadEntry =
  | {
      readonly events: readonly FlightEvent[];
      /** False once the leader said no-store. */
      readonly retained: boolean;
      readonly nextSeq: number;
    }
  /** Events are missing (a batch skipped, or the leader said so): the answer is incomplete. */
  | { readonly lost: true };

export function readFlightEntry(fields: readonly string[], expectedSeq: number): ReadEntry {
  let retained = true;
  let nextSeq = expectedSeq;
  const events: FlightEvent[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [name, value] = [fields[i], fields[i + 1]];
    if (name === 'x') return { lost: true };
    if (name === 'r' && value === '0') retained = false;
    // A beat comes after every batch sent before it: one not read by then was lost.
    if (name === 's' && Number(value) >= expectedSeq) return { lost: true };
    if (name === 'n') {
      if (Number(value) !== expectedSeq) return { lost: true };
      nextSeq = expectedSeq + 1;
    }
    // Events without a number come from an earlier version's leader: read as they are.
    if (name === 'e') events.push(...(JSON.parse(value) as FlightEvent[]));
  }
  return { events, retained, nextSeq };
}
