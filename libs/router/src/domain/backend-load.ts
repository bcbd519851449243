/** How much of a new latency sample goes into a backend's moving average, at least. */
const LATENCY_SMOOTHING = 0.3;

/**
 * How fast a latency figure ages when no new answer refreshes it (AI_GATEWAY_LATENCY_HALF_LIFE_SECONDS).
 * 5 minutes: a stale backend costs at most one probe call per kind per 5 minutes, while a
 * figure from an hour ago no longer decides anything.
 */
export const DEFAULT_LATENCY_HALF_LIFE_MS = 300_000;

/** Backends remembered at most; a config reload may name new ones, so old ones are dropped. */
const MAX_BACKENDS = 10_000;

/** One backend's load as this process sees it. */
export interface LoadFigures {
  /** Calls started and not yet over (a stream counts until it ends). */
  readonly inFlight: number;
  /** The moving average of its answers' latency, in ms; undefined before its first answer. */
  readonly latencyMs?: number;
  /** Answers measured. */
  readonly samples: number;
  /** With a kind: that kind's calls in flight (a figure of it is being measured). */
  readonly kindInFlight?: number;
  /**
   * With a kind and `now`: no figure, and a call of that kind failed less than a half-life
   * ago. Its probe is spent, as a stale figure's is: a backend that never answered must not
   * be tried first on every request while it fails (failures are not measured).
   */
  readonly probeSpent?: true;
}

/**
 * What a latency measures: a JSON answer's whole call, which grows with its length, or a
 * stream's wait for its first event. They are averaged apart, and a request is ordered by
 * its own kind's: one long JSON answer must not push a backend behind for streams.
 */
export type LatencyKind = 'json' | 'stream';

export const LATENCY_KINDS: readonly LatencyKind[] = ['json', 'stream'];

/** A started call; `answered` and `ended` may each be called any number of times. */
export interface CallInFlight {
  /** The backend answered (a JSON body, or a stream's first event): measures its latency. */
  answered(kind?: LatencyKind): void;
  /** The call is over, answered or not: no longer in flight. */
  ended(): void;
}

interface Average {
  latencyMs?: number;
  samples: number;
  /** When the last sample was taken (the clock's ms). */
  at: number;
  inFlight: number;
  /**
   * When a call of the kind that ended unanswered started: a probe spent (the clock's ms);
   * -Infinity before any did.
   */
  failedAt: number;
}

interface Figures extends Average {
  readonly byKind: Record<LatencyKind, Average>;
}

/**
 * The calls each backend has in flight and an exponentially weighted moving average of its
 * latency (time to first byte of a stream, the whole call for JSON), for the least-busy and
 * lowest-latency strategies and the operator. Kept by backend name, per router process:
 * each replica sees only its own calls, as it keeps its own weighted turn.
 *
 * A figure ages by `halfLifeMs`: a backend rarely picked (slow once, then left to the
 * exploration share) must not be judged for hours on one old measure. Once a figure is a
 * half-life old it weighs less than one new sample would, so the order reads it as
 * unmeasured (`of` with `now`): the backend is tried first, once, and re-measured. The new
 * sample then weighs 1 - 2^(-age / halfLife) (at least the usual 0.3), so it mostly replaces
 * the stale figure; samples close together average as before. Ageing costs a clock reading
 * per ordered request and none per call: samples already read the clock.
 */
export class BackendLoad {
  private readonly figures = new Map<string, Figures>();

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly halfLifeMs: number = DEFAULT_LATENCY_HALF_LIFE_MS,
  ) {}

  /** The clock the figures are timed by, for `of`'s `now`. */
  time(): number {
    return this.now();
  }

  /**
   * `kind`: what the request is ordered by, so a probe of that kind is known under way;
   * a call of no known kind counts as either.
   */
  start(backend: string, kind?: LatencyKind): CallInFlight {
    const figures = this.entry(backend);
    const { json, stream } = figures.byKind;
    const first = kind === 'stream' ? stream : json;
    const second = kind === undefined ? stream : undefined;
    const startedAt = this.now();
    figures.inFlight++;
    first.inFlight++;
    if (second) second.inFlight++;
    let answered = false;
    let ended = false;
    return {
      answered: (kind: LatencyKind = 'json') => {
        if (answered || ended) return;
        answered = true;
        const at = this.now();
        const sample = Math.max(0, at - startedAt);
        addSample(figures, sample, at, this.halfLifeMs);
        addSample(figures.byKind[kind], sample, at, this.halfLifeMs);
      },
      ended: () => {
        if (ended) return;
        ended = true;
        figures.inFlight--;
        first.inFlight--;
        if (second) second.inFlight--;
        // Failed calls are not measured: without this a stale backend that keeps failing
        // would be probed first on every request.
        if (answered) return;
        first.failedAt = startedAt;
        if (second) second.failedAt = startedAt;
      },
    };
  }

  /**
   * A backend's figures: with `kind`, the latency of that kind of answer only (what the
   * lowest-latency strategy orders a request by), else of all its answers (the operator's).
   * With `now` (from `time()`), a latency a half-life old or more is left out: with `kind`,
   * unmeasured unless a call of its kind failed since it went stale (that probe is spent);
   * without, the operator's figure once no answer came for a half-life (nothing current).
   */
  of(backend: string, kind?: LatencyKind, now?: number): LoadFigures {
    const figures = this.figures.get(backend);
    if (!figures) return { inFlight: 0, samples: 0 };
    if (kind === undefined) {
      const { latencyMs, samples, inFlight, at } = figures;
      return latencyMs === undefined || this.staleSince(at, now)
        ? { inFlight, samples }
        : { inFlight, latencyMs, samples };
    }
    const { latencyMs, samples, at, failedAt, inFlight } = figures.byKind[kind];
    if (latencyMs === undefined) {
      return now !== undefined && !this.staleSince(failedAt, now)
        ? { inFlight: figures.inFlight, samples, kindInFlight: inFlight, probeSpent: true }
        : { inFlight: figures.inFlight, samples, kindInFlight: inFlight };
    }
    return this.staleSince(at > failedAt ? at : failedAt, now)
      ? { inFlight: figures.inFlight, samples, kindInFlight: inFlight }
      : { inFlight: figures.inFlight, latencyMs, samples, kindInFlight: inFlight };
  }

  /**
   * How long ago (the clock's ms) the backend last answered, with `kind` an answer of that
   * kind; undefined before it answered.
   */
  ageOf(backend: string, kind?: LatencyKind, now: number = this.now()): number | undefined {
    const figures = this.figures.get(backend);
    const average = kind === undefined ? figures : figures?.byKind[kind];
    return average?.latencyMs === undefined ? undefined : Math.max(0, now - average.at);
  }

  /** A half-life or more has passed at `now` since `since` (never, without `now`). */
  private staleSince(since: number, now: number | undefined): boolean {
    return now !== undefined && now - since >= this.halfLifeMs;
  }

  private entry(backend: string): Figures {
    let figures = this.figures.get(backend);
    if (!figures) {
      if (this.figures.size >= MAX_BACKENDS) this.dropIdle();
      figures = {
        inFlight: 0,
        samples: 0,
        at: 0,
        failedAt: -Infinity,
        byKind: {
          json: { samples: 0, at: 0, inFlight: 0, failedAt: -Infinity },
          stream: { samples: 0, at: 0, inFlight: 0, failedAt: -Infinity },
        },
      };
      this.figures.set(backend, figures);
    }
    return figures;
  }

  /** Forgets idle backends (their calls in flight must still be counted down). */
  private dropIdle(): void {
    for (const [name, figures] of this.figures) {
      if (figures.inFlight === 0) this.figures.delete(name);
    }
  }
}

/** Folds a sample taken at `at` in: the older the average, the more the sample weighs. */
function addSample(average: Average, sample: number, at: number, halfLifeMs: number): void {
  if (average.latencyMs === undefined) {
    average.latencyMs = sample;
  } else {
    const aged = 1 - 2 ** (-Math.max(0, at - average.at) / halfLifeMs);
    const weight = aged > LATENCY_SMOOTHING ? aged : LATENCY_SMOOTHING;
    average.latencyMs += weight * (sample - average.latencyMs);
  }
  average.at = at;
  average.samples++;
}
