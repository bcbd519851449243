/** How much of a new latency sample goes into a backend's moving average. */
const LATENCY_SMOOTHING = 0.3;

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
}

/**
 * What a latency measures: a JSON answer's whole call, which grows with its length, or a
 * stream's wait for its first event. They are averaged apart, and a request is ordered by
 * its own kind's: one long JSON answer must not push a backend behind for streams.
 */
export type LatencyKind = 'json' | 'stream';

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
}

interface Figures extends Average {
  inFlight: number;
  readonly byKind: Record<LatencyKind, Average>;
}

/**
 * The calls each backend has in flight and an exponentially weighted moving average of its
 * latency (time to first byte of a stream, the whole call for JSON), for the least-busy and
 * lowest-latency strategies and the operator. Kept by backend name, per router process:
 * each replica sees only its own calls, as it keeps its own weighted turn.
 */
export class BackendLoad {
  private readonly figures = new Map<string, Figures>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  start(backend: string): CallInFlight {
    const figures = this.entry(backend);
    const startedAt = this.now();
    figures.inFlight++;
    let answered = false;
    let ended = false;
    return {
      answered: (kind: LatencyKind = 'json') => {
        if (answered || ended) return;
        answered = true;
        const sample = Math.max(0, this.now() - startedAt);
        addSample(figures, sample);
        addSample(figures.byKind[kind], sample);
      },
      ended: () => {
        if (ended) return;
        ended = true;
        figures.inFlight--;
      },
    };
  }

  /**
   * A backend's figures: with `kind`, the latency of that kind of answer only (what the
   * lowest-latency strategy orders a request by), else of all its answers (the operator's).
   */
  of(backend: string, kind?: LatencyKind): LoadFigures {
    const figures = this.figures.get(backend);
    if (!figures) return { inFlight: 0, samples: 0 };
    const { latencyMs, samples } = kind === undefined ? figures : figures.byKind[kind];
    return latencyMs === undefined
      ? { inFlight: figures.inFlight, samples }
      : { inFlight: figures.inFlight, latencyMs, samples };
  }

  private entry(backend: string): Figures {
    let figures = this.figures.get(backend);
    if (!figures) {
      if (this.figures.size >= MAX_BACKENDS) this.dropIdle();
      figures = {
        inFlight: 0,
        samples: 0,
        byKind: { json: { samples: 0 }, stream: { samples: 0 } },
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

function addSample(average: Average, sample: number): void {
  average.latencyMs =
    average.latencyMs === undefined
      ? sample
      : average.latencyMs + LATENCY_SMOOTHING * (sample - average.latencyMs);
  average.samples++;
}
