import type { GatewayAnswer } from '@aigw/contracts/data-plane';
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
  /** An identical call started within its window (running or over), read from its start. */
  join(key: string): Promise<Flight | undefined>;
  /** Takes the key for a new call, unless another caller took it first: then its flight. */
  lead(key: string, windowMs: number): Promise<LeadOutcome>;
  close(): Promise<void>;
}

/** Flights this process knows, each joinable until its window is over. */
export class LocalFlights {
  private readonly flights = new Map<string, { flight: Flight; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  get(key: string): Flight | undefined {
    const entry = this.flights.get(key);
    if (!entry) return undefined;
    if (entry.until > this.now()) return entry.flight;
    this.flights.delete(key);
    return undefined;
  }

  put(key: string, flight: Flight, windowMs: number): void {
    this.flights.set(key, { flight, until: this.now() + windowMs });
    // A failed call is no answer to share: callers already on it get its error, the next
    // identical request makes a call of its own (another caller's error is never replayed).
    flight.usage.catch(() => {
      if (this.flights.get(key)?.flight === flight) this.flights.delete(key);
    });
    // Forget it once the window is over, so an idle process holds no finished answers.
    const timer = setTimeout(() => {
      if (this.flights.get(key)?.flight === flight) this.flights.delete(key);
    }, windowMs + 10);
    timer.unref();
  }

  get size(): number {
    return this.flights.size;
  }
}

/** Deduplication within one process (no Redis): identical requests coalesce here. */
export class InProcessFlightCoordinator implements FlightCoordinator {
  private readonly local: LocalFlights;

  constructor(now: () => number = Date.now) {
    this.local = new LocalFlights(now);
  }

  async join(key: string): Promise<Flight | undefined> {
    return this.local.get(key);
  }

  async lead(key: string, windowMs: number): Promise<LeadOutcome> {
    const running = this.local.get(key);
    if (running) return { follower: running };
    const flight = new Flight();
    this.local.put(key, flight, windowMs);
    return { leader: { flight, run: (call) => pumpIntoFlight(call, flight) } };
  }

  async close(): Promise<void> {
    // Nothing held outside memory.
  }
}
