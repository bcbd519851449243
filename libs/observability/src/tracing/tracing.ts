// Distributed tracing with OpenTelemetry, opt-in. Nothing here loads the SDK: `startTracing`
// does, when a service was configured to trace, so a gateway that does not trace never
// loads it (the API package aside, which prom-client loads anyway). Types come from
// `import type`, which loads nothing.
import type { Tracer } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace';

/** The OTLP/HTTP encodings (OTEL_EXPORTER_OTLP_PROTOCOL); gRPC is not offered. */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** Which traces are kept (OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG). */
export interface SamplerChoice {
  /** The decision for a trace that starts here. */
  readonly root: 'always_on' | 'always_off' | 'traceidratio';
  /** Whether a caller's sampled flag decides for the traces it started. */
  readonly parentBased: boolean;
  /** The share of traces kept by `traceidratio`, 0 to 1. */
  readonly ratio: number;
}

export const DEFAULT_SAMPLER: SamplerChoice = { root: 'always_on', parentBased: true, ratio: 1 };

export interface TracingOptions {
  /** The `service.name` spans are filed under. */
  readonly serviceName: string;
  /** An OTLP/HTTP traces URL, or an exporter of one's own (tests: the in-memory one). */
  readonly export: { readonly url: string; readonly protocol: OtlpProtocol } | SpanExporter;
  readonly sampler?: SamplerChoice;
  /** A batch that could not be exported (the collector is down, say); the spans are lost. */
  readonly onExportError?: (error: unknown) => void;
  /** How long ended spans wait to be sent together; the SDK's default is 5 s. */
  readonly batchDelayMs?: number;
}

/** A running tracer: spans batch up and go to the collector in the background. */
export interface Tracing {
  readonly tracer: Tracer;
  /** Sends the spans ended so far. */
  flush(): Promise<void>;
  /** Sends what is left, then stops; bounded so a dead collector cannot hold a shutdown. */
  shutdown(): Promise<void>;
}

/** Loads the OpenTelemetry SDK and starts a tracer provider with a batch span processor. */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  const { startOtelTracing } = await import('./otel-sdk');
  return startOtelTracing(options);
}

/**
 * A time for a span's start or end, in milliseconds since the epoch, read from the
 * monotonic clock (`performance.now()` unless given). A span left to time itself starts at
 * `Date.now()`, in whole milliseconds, and each span anchors its own clock, so a failed
 * attempt and the next one begun within the same millisecond could appear to overlap;
 * every span of the gateway is timed by this instead.
 */
export function spanTime(performanceMs: number = performance.now()): number {
  return performance.timeOrigin + performanceMs;
}
