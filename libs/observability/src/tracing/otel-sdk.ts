// The OpenTelemetry SDK itself, loaded only by `startTracing` (tracing.ts).
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  defaultResource,
  detectResources,
  resourceAttributesEnvDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { DEFAULT_SAMPLER, type SamplerChoice, type Tracing, type TracingOptions } from './tracing';

/** The instrumentation scope every span of the gateway is filed under. */
export const TRACER_NAME = 'ai-gateway';

/** How long a shutdown waits for the last batch to reach the collector. */
const SHUTDOWN_WAIT_MS = 3_000;

export function startOtelTracing(options: TracingOptions): Tracing {
  const provider = new TracerProvider({
    // OTEL_RESOURCE_ATTRIBUTES (deployment.environment, ...) beside the service's name.
    resource: defaultResource()
      .merge(detectResources({ detectors: [resourceAttributesEnvDetector] }))
      .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName })),
    sampler: samplerFor(options.sampler ?? DEFAULT_SAMPLER),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: exporterFor(options.export),
        ...(options.batchDelayMs === undefined
          ? {}
          : { scheduledDelayMillis: options.batchDelayMs }),
      }),
    ],
  });
  // The batch processor reports a failed export only here (the SDK's default logs nothing).
  if (options.onExportError) setGlobalErrorHandler(options.onExportError);
  return {
    tracer: provider.getTracer(TRACER_NAME),
    flush: () => provider.forceFlush(),
    shutdown: () => {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SHUTDOWN_WAIT_MS);
        timer.unref();
      });
      return Promise.race([provider.shutdown().catch(() => undefined), waited]).finally(() =>
        clearTimeout(timer),
      );
    },
  };
}

function exporterFor(target: TracingOptions['export']): SpanExporter {
  if (!('url' in target)) return target;
  // The exporters read the rest of OTEL_EXPORTER_OTLP_* themselves (headers, timeout, TLS).
  return target.protocol === 'http/json'
    ? new OtlpJsonExporter({ url: target.url })
    : new OtlpProtobufExporter({ url: target.url });
}

function samplerFor(choice: SamplerChoice): Sampler {
  const root =
    choice.root === 'always_on'
      ? new AlwaysOnSampler()
      : choice.root === 'always_off'
        ? new AlwaysOffSampler()
        : new TraceIdRatioBasedSampler(choice.ratio);
  return choice.parentBased ? new ParentBasedSampler({ root }) : root;
}
