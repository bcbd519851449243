import type { GatewayAnswer } from '@aigw/contracts/data-plane';
import { heapBytesOf } from '../../cache/domain/heap-bytes';
import { Flight, pumpIntoFlight } from './flight';

/** The caller that makes the upstream call for everyone who joins within the window. */
export interface LeadingFlight {
  readonly flight: Flight;
  /** Feeds the call into the flight (and to other replicas); resolves when it is over. */
  readonly run: (call: Promise<GatewayAnswer>) => Promise<void>;
}

export type LeadOutcome = { readonly leader: LeadingFlight } | { readonly follower: Flight };

/** Finds or starts the one upstream call identical requests share. */
export interface FlightCoordinator {
  /**
   * An identical call still running (however long past its window), or over and started
   * within its window, read from its start.
   */
  join(key: string): Promise<Flight | undefined>;
  /**
   * Takes the key for a new call, unless another caller took it first: then its flight.
   * `retain` false (the leader's no-store): joinable only while it runs, dropped once over.
   */
  lead(key: string, windowMs: number, retain?: boolean): Promise<LeadOutcome>;
  close(): Promise<void>;
}

/** How much finished answers this process keeps for late followers (in-flight calls apart). */
export interface FlightMemoryLimits {
  /** Heap bytes of the finished answers kept (their events, keys and bookkeeping), together. */
  readonly maxBytes: number;
  /** Finished answers kept. */
  readonly maxEntries: number;
  /** A finished answer was dropped before its window ended, to stay within the limits. */
  readonly onEvict?: () => void;
}

export const DEFAULT_FLIGHT_MEMORY: FlightMemoryLimits = {
  maxBytes: 64 * 1024 * 1024,
  maxEntries: 10_000,
};

interface HeldFlight {
  readonly flight: Flight;
  readonly until: number;
  readonly timer: NodeJS.Timeout;
  /** Set once the call answered: its size (heldBytes), counted against the limits. */
  bytes?: number;
}

/**
 * Flights this process knows, each joinable until its window is over, or for as long as its
 * call runs past it (an identical request never makes a second call meanwhile). A finished
 * answer stays for late followers only within `limits`: past them the answers that finished
 * first go first (a call still running is never dropped, its callers read it from memory).
 * A caller who finds none makes its own call (or, across replicas, reads the Redis stream).
 */
export class LocalFlights {
  private readonly flights = new Map<string, HeldFlight>();
  /** Keys of the finished flights held, the earliest finished first. */
  private readonly finished = new Set<string>();
  private finishedBytes = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly limits: FlightMemoryLimits = DEFAULT_FLIGHT_MEMORY,
  ) {}

  get(key: string): Flight | undefined {
    const entry = this.flights.get(key);
    if (!entry) return undefined;
    if (entry.until > this.now() || !entry.flight.finished) return entry.flight;
    this.forget(key, entry.flight);
    return undefined;
  }

  put(key: string, flight: Flight, windowMs: number): void {
    const previous = this.flights.get(key);
    if (previous) this.forget(key, previous.flight);
    // Forget it once the window is over, so an idle process holds no finished answers; a
    // call still running then is forgotten as it ends (answered).
    const timer = setTimeout(() => {
      if (flight.finished) this.forget(key, flight);
    }, windowMs + 10);
    timer.unref();
    this.flights.set(key, { flight, until: this.now() + windowMs, timer });
    flight.usage.then(
      () => this.answered(key, flight),
      // A failed call is no answer to share: callers already on it get its error, the next
      // identical request makes a call of its own (another caller's error is never replayed).
      () => this.forget(key, flight),
    );
  }

  get size(): number {
    return this.flights.size;
  }

  private answered(key: string, flight: Flight): void {
    const entry = this.flights.get(key);
    if (entry?.flight !== flight) return;
    if (!flight.retained || entry.until <= this.now()) {
      this.forget(key, flight); // no-store, or past its window: kept only while the call ran
      return;
    }
    const bytes = heldBytes(key, flight);
    if (bytes > this.limits.maxBytes) {
      // Larger than the whole budget: dropped alone, not at the cost of every other answer.
      this.forget(key, flight);
      this.limits.onEvict?.();
      return;
    }
    entry.bytes = bytes;
    this.finished.add(key);
    this.finishedBytes += bytes;
    for (const oldest of this.finished) {
      if (
        this.finishedBytes <= this.limits.maxBytes &&
        this.finished.size <= this.limits.maxEntries
      ) {
        break;
      }
      const evicted = this.flights.get(oldest);
      if (evicted) this.forget(oldest, evicted.flight);
      this.limits.onEvict?.();
    }
  }

  /** Drops the key's flight if it still is `flight` (a successor may hold the key). */
  private forget(key: string, flight: Flight): void {
    const entry = this.flights.get(key);
    if (entry?.flight !== flight) return;
    clearTimeout(entry.timer); // its closure would hold the answer until the window ended
    this.flights.delete(key);
    if (entry.bytes !== undefined) {
      this.finished.delete(key);
      this.finishedBytes -= entry.bytes;
    }
  }
}

/**
 * The heap a held answer takes besides its events: its Flight with its promise and closures,
 * its window's timer and its map and set entries (measured: ~850 bytes, Node 24).
 */
const FLIGHT_OVERHEAD_BYTES = 850;

/** The heap an event's objects take besides its JSON text (measured: ~170 bytes a chunk). */
const EVENT_OVERHEAD_BYTES = 170;

/**
 * What a finished answer weighs: its key and its events as JSON (as they travel between
 * replicas), at the bytes a character V8 holds them in, not their UTF-8 size (an answer with
 * one em dash takes twice its UTF-8 size), and its bookkeeping (small answers weigh mostly that).
 */
function heldBytes(key: string, flight: Flight): number {
  let bytes = heapBytesOf(key) + FLIGHT_OVERHEAD_BYTES;
  for (const event of flight.snapshot()) {
    bytes += heapBytesOf(JSON.stringify(event)) + EVENT_OVERHEAD_BYTES;
  }
  return bytes;
}

/** Deduplication within one process (no Redis): identical requests coalesce here. */
export class InProcessFlightCoordinator implements FlightCoordinator {
  private readonly local: LocalFlights;

  constructor(now: () => number = Date.now, limits: FlightMemoryLimits = DEFAULT_FLIGHT_MEMORY) {
    this.local = new LocalFlights(now, limits);
  }

  async join(key: string): Promise<Flight | undefined> {
    return this.local.get(key);
  }

  async lead(key: string, windowMs: number, retain = true): Promise<LeadOutcome> {
    const running = this.local.get(key);
    if (running) return { follower: running };
    const flight = new Flight();
    flight.retained = retain;
    this.local.put(key, flight, windowMs);
    return { leader: { flight, run: (call) => pumpIntoFlight(call, flight) } };
  }

  async close(): Promise<void> {
    // Nothing held outside memory.
  }
}
