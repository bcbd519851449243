import {
  DEFAULT_SAMPLER,
  startTracing,
  throttledWarning,
  type Logger,
  type MetricsRegistry,
  type OtlpProtocol,
  type SamplerChoice,
  type Tracing,
  type TracingOptions,
} from '@aigw/observability';
import { StartupError } from './listen';
import { checkedHttpUrl, type Env } from './service-settings';

/** Where and how a service sends its spans, from the standard OTEL_* variables. */
export interface TracingSettings {
  readonly serviceName: string;
  /** The OTLP/HTTP traces URL. */
  readonly url: string;
  readonly protocol: OtlpProtocol;
  readonly sampler: SamplerChoice;
}

/** At most one warning a minute about spans that could not be exported. */
const EXPORT_WARNING_EVERY_MS = 60_000;

/**
 * The tracing a service was configured for, or undefined when it traces nothing: tracing
 * is on only with OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set, and
 * OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true turn it off. A value that cannot work
 * is a StartupError.
 */
export function tracingSettings(env: Env, app: string): TracingSettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() || 'otlp';
  if (exporter === 'none') return undefined;
  if (exporter !== 'otlp') {
    throw new StartupError(
      `OTEL_TRACES_EXPORTER must be "otlp" or "none" (the gateway exports over OTLP only), got "${exporter}"`,
    );
  }
  const url = tracesUrl(env);
  if (url === undefined) return undefined;
  return {
    serviceName: env.OTEL_SERVICE_NAME?.trim() || `ai-gateway-${app}`,
    url,
    protocol: otlpProtocol(env),
    sampler: samplerChoice(env),
  };
}

/**
 * The traces URL: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else the /v1/traces path
 * under OTEL_EXPORTER_OTLP_ENDPOINT (the OTLP exporter specification's rule).
 */
function tracesUrl(env: Env): string | undefined {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (specific) return checkedUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', specific).toString();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!base) return undefined;
  const url = checkedUrl('OTEL_EXPORTER_OTLP_ENDPOINT', base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  return url.toString();
}

function checkedUrl(name: string, raw: string): URL {
  return checkedHttpUrl(name, raw, 'set them in OTEL_EXPORTER_OTLP_HEADERS');
}

function otlpProtocol(env: Env): OtlpProtocol {
  const name = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim()
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const given = env[name]?.trim() || 'http/protobuf';
  if (given === 'http/protobuf' || given === 'http/json') return given;
  throw new StartupError(
    `${name} must be "http/protobuf" or "http/json" (OTLP over HTTP, the collector's port 4318), got "${given}"`,
  );
}

const SAMPLERS: Readonly<Record<string, Omit<SamplerChoice, 'ratio'>>> = {
  always_on: { root: 'always_on', parentBased: false },
  always_off: { root: 'always_off', parentBased: false },
  traceidratio: { root: 'traceidratio', parentBased: false },
  parentbased_always_on: { root: 'always_on', parentBased: true },
  parentbased_always_off: { root: 'always_off', parentBased: true },
  parentbased_traceidratio: { root: 'traceidratio', parentBased: true },
};

/** OTEL_TRACES_SAMPLER and its ratio; the default keeps every trace a caller did not drop. */
function samplerChoice(env: Env): SamplerChoice {
  const name = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase();
  if (!name) return DEFAULT_SAMPLER;
  const sampler = SAMPLERS[name];
  if (!sampler) {
    throw new StartupError(
      `OTEL_TRACES_SAMPLER must be one of ${Object.keys(SAMPLERS).join(', ')}, got "${name}"`,
    );
  }
  const raw = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  if (sampler.root !== 'traceidratio' || !raw) return { ...sampler, ratio: 1 };
  const ratio = Number(raw);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new StartupError(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got "${raw}"`);
  }
  return { ...sampler, ratio };
}

/**
 * Starts the service's tracer when tracing is configured; otherwise loads nothing and
 * returns undefined. A failing export is counted, and a warning at most once a minute.
 */
export async function openTracing(
  settings: TracingSettings | undefined,
  logger: Logger,
  metrics: Pick<MetricsRegistry, 'recordTracingError'>,
  options: Pick<TracingOptions, 'batchDelayMs'> = {},
): Promise<Tracing | undefined> {
  if (!settings) return undefined;
  const warn = exportWarning(logger);
  const tracing = await startTracing({
    serviceName: settings.serviceName,
    export: { url: settings.url, protocol: settings.protocol },
    sampler: settings.sampler,
    onExportError: (error) => {
      metrics.recordTracingError();
      warn(error);
    },
    ...options,
  });
  logger.info('tracing on: spans go to the OTLP collector', {
    collector: new URL(settings.url).origin,
    protocol: settings.protocol,
    serviceName: settings.serviceName,
  });
  return tracing;
}

/** Logs the first failed export, then at most one a minute with how many it left out. */
export function exportWarning(
  logger: Logger,
  now: () => number = Date.now,
): (error: unknown) => void {
  const warn = throttledWarning(
    logger,
    'spans could not be exported to the OTLP collector; they are lost',
    EXPORT_WARNING_EVERY_MS,
    now,
  );
  return (error) => warn({ reason: error instanceof Error ? error.message : String(error) });
}
