import {
  DataPlaneError,
  DataPlaneErrorCode,
  decodeWireError,
  encodeWireError,
  type GatewayAnswer,
  type JsonObject,
  type ServedBy,
  type TokenUsage,
  type WireErrorBody,
} from '@aigw/contracts/data-plane';

/**
 * A failed call's error in the internal wire form (code, message, param, the provider's
 * own code, retry-after, upstream status, headers): the same codec as every other hop, so
 * a field added to errors travels to another replica's followers without a change here.
 */
export type FlightErrorEvent = { readonly t: 'error' } & Readonly<WireErrorBody['error']>;

/** What happens to one upstream call, in order, as every caller of it sees it. */
export type FlightEvent =
  | {
      readonly t: 'head';
      readonly kind: 'json' | 'stream';
      readonly status: number;
      readonly servedBy: ServedBy;
    }
  | { readonly t: 'chunk'; readonly data: JsonObject }
  | { readonly t: 'json'; readonly body: JsonObject; readonly usage: TokenUsage }
  | { readonly t: 'end'; readonly usage: TokenUsage }
  | FlightErrorEvent;

/**
 * The errors this process raised itself, by their event: callers here get the very error
 * object (nothing copied, nothing lost); only a follower on another replica decodes it.
 */
const originals = new WeakMap<FlightErrorEvent, DataPlaneError>();

/** An error as every caller of the call gets it (what the edge needs to answer with it). */
export function flightError(error: unknown): FlightErrorEvent {
  const failure =
    error instanceof DataPlaneError
      ? error
      : new DataPlaneError(DataPlaneErrorCode.Internal, 'the upstream call failed');
  const event: FlightErrorEvent = { t: 'error', ...encodeWireError(failure).error };
  originals.set(event, failure);
  return event;
}

/** The error itself when this process raised it; else rebuilt from its wire form. */
export function errorOf(event: FlightErrorEvent): DataPlaneError {
  const original = originals.get(event);
  if (original) return original;
  const { t: _t, ...error } = event;
  // Status 502 classifies a code this version does not know as an upstream error.
  return decodeWireError({ error }, 502);
}

/**
 * One upstream call shared by every identical request: its events are kept from the
 * start, so a caller that joins late still reads the whole answer, and each reader goes
 * at its own pace. Nothing is appended after the end or an error.
 */
export class Flight {
  private readonly events: FlightEvent[] = [];
  private waiting: (() => void)[] = [];
  private over = false;
  /**
   * Whether its answer stays joinable once over, for the rest of the window. False when the
   * leader's request said `Cache-Control: no-store`: shared only while it runs, then gone.
   */
  retained = true;
  private settle!: { resolve: (usage: TokenUsage) => void; reject: (error: unknown) => void };
  /** The call's usage once it is over, whoever still reads it; rejects if it failed. */
  readonly usage = new Promise<TokenUsage>(
    (resolve, reject) => (this.settle = { resolve, reject }),
  );

  constructor() {
    this.usage.catch(() => undefined); // read by whoever needs it; an unread failure is fine
  }

  get finished(): boolean {
    return this.over;
  }

  /** Whether the call ended with an error (a broken stream included). */
  get failed(): boolean {
    return this.over && this.events[this.events.length - 1]?.t === 'error';
  }

  /** The events so far (a copy), e.g. to cache a finished answer. */
  snapshot(): readonly FlightEvent[] {
    return [...this.events];
  }

  append(event: FlightEvent): void {
    if (this.over) return;
    this.events.push(event);
    if (event.t === 'end' || event.t === 'json') this.settle.resolve(event.usage);
    if (event.t === 'error') this.settle.reject(errorOf(event));
    if (event.t === 'end' || event.t === 'json' || event.t === 'error') this.over = true;
    const waiting = this.waiting;
    this.waiting = [];
    for (const wake of waiting) wake();
  }

  async *read(): AsyncGenerator<FlightEvent> {
    let next = 0;
    for (;;) {
      while (next < this.events.length) {
        const event = this.events[next++];
        yield event;
        if (event.t === 'end' || event.t === 'json' || event.t === 'error') return;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }
}

/**
 * The flight as an answer the edge writes like any other: waits for the head, then a
 * complete body, or a stream whose chunks follow the flight (from its first one).
 */
export async function answerFromFlight(flight: Flight): Promise<GatewayAnswer> {
  const reader = flight.read();
  const first = await reader.next();
  if (first.done) throw new DataPlaneError(DataPlaneErrorCode.Internal, 'empty shared call');
  const head = first.value;
  if (head.t === 'error') throw errorOf(head);
  if (head.t !== 'head') {
    throw new DataPlaneError(DataPlaneErrorCode.Internal, 'a shared call began out of order');
  }
  if (head.kind === 'json') {
    const next = await reader.next();
    if (next.done) throw new DataPlaneError(DataPlaneErrorCode.Internal, 'empty shared call');
    if (next.value.t === 'error') throw errorOf(next.value);
    if (next.value.t !== 'json') {
      throw new DataPlaneError(DataPlaneErrorCode.Internal, 'a shared call ended out of order');
    }
    return {
      kind: 'json',
      status: head.status,
      body: next.value.body,
      usage: next.value.usage,
      servedBy: head.servedBy,
    };
  }
  async function* events(): AsyncGenerator<JsonObject> {
    for await (const event of reader) {
      if (event.t === 'chunk') yield event.data;
      else if (event.t === 'error') throw errorOf(event);
    }
  }
  return {
    kind: 'stream',
    status: head.status,
    events: events(),
    usage: flight.usage,
    servedBy: head.servedBy,
  };
}

/**
 * Runs the upstream call into the flight, independent of any one caller: a caller that
 * leaves stops reading, the call goes on for the others. Resolves when the call is over.
 */
export async function pumpIntoFlight(
  call: Promise<GatewayAnswer>,
  flight: { append(event: FlightEvent): void },
): Promise<void> {
  let answer: GatewayAnswer;
  try {
    answer = await call;
  } catch (error) {
    flight.append(flightError(error));
    return;
  }
  flight.append({ t: 'head', kind: answer.kind, status: answer.status, servedBy: answer.servedBy });
  if (answer.kind === 'json') {
    flight.append({ t: 'json', body: answer.body, usage: answer.usage });
    return;
  }
  try {
    for await (const chunk of answer.events) flight.append({ t: 'chunk', data: chunk });
    flight.append({ t: 'end', usage: await answer.usage });
  } catch (error) {
    answer.usage.catch(() => undefined);
    flight.append(flightError(error));
  }
}
