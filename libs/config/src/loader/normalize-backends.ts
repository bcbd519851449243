// Turns validated `spec.backends` into BackendConfig: provider and auth inferred where
// left out, secrets resolved, defaults filled, sorted by priority.
import { type PathSegment } from '../domain/config-issue';
import {
  type BackendAuth,
  type BackendConfig,
  type VertexPlacement,
} from '../domain/gateway-config';
import {
  PROVIDER_KINDS,
  canonicalProvider,
  defaultApiKeyHeader,
  expectsApiKey,
  isOpenWeightModel,
  providerFromBackendName,
  providerFromModel,
  requiresBaseUrl,
  type ProviderKind,
} from '../domain/providers';
import { parseDuration } from '../domain/units';
import { type BackendAuthDto, type BackendDto } from '../schema/backend.dto';
import { DEFAULT_SECRET_KEY, resolveSecret, type SecretSources } from '../secrets/secret-resolver';
import {
  DEFAULT_FIRST_BYTE_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_STREAM_IDLE_TIMEOUT_MS,
  type MissingSecretPolicy,
} from './load-options';
import { type DocumentContext, type LoadReport } from './report';

/** A backend's share among those of its priority when it names none: all alike. */
const DEFAULT_WEIGHT = 1;

export interface BackendContext {
  readonly doc: DocumentContext;
  readonly report: LoadReport;
  readonly secrets: SecretSources;
  readonly missingSecrets: MissingSecretPolicy;
}

export function normalizeBackends(
  dtos: readonly BackendDto[],
  base: readonly PathSegment[],
  ctx: BackendContext,
): BackendConfig[] {
  const seen = new Set<string>();
  const backends: BackendConfig[] = [];
  dtos.forEach((dto, index) => {
    const path = [...base, index];
    if (seen.has(dto.name)) {
      ctx.report.error(ctx.doc, [...path, 'name'], `duplicate backend name "${dto.name}"`);
    }
    seen.add(dto.name);
    const backend = normalizeBackend(dto, index, path, ctx);
    if (backend) backends.push(backend);
  });
  // Array.prototype.sort is stable: equal priorities keep their written order.
  return backends.sort((a, b) => a.priority - b.priority);
}

function normalizeBackend(
  dto: BackendDto,
  index: number,
  path: readonly PathSegment[],
  ctx: BackendContext,
): BackendConfig | undefined {
  const { report, doc } = ctx;
  const label = `backend "${dto.name}"`;
  const provider = resolveProvider(dto, path, ctx);
  if (dto.model === undefined) {
    if (dto.modelNameOverride !== undefined) {
      report.error(
        doc,
        [...path, 'modelNameOverride'],
        'needs `model` (the upstream model it renames)',
      );
    } else {
      report.infer(
        doc,
        path,
        `${label} has no model: it serves whatever model the client asks for`,
      );
    }
  }
  let priority = dto.priority;
  if (priority === undefined) {
    priority = index;
    report.infer(doc, path, `${label} has no priority: ${index} assumed from its position`);
  }
  if (provider === undefined) return undefined;
  if (dto.baseUrl === undefined && requiresBaseUrl(provider)) {
    report.error(
      doc,
      [...path, 'baseUrl'],
      `is required for provider ${provider} (it has no default endpoint)`,
    );
  }
  const vertex = vertexPlacement(dto, provider, path, ctx);
  const auth = normalizeAuth(dto.auth, provider, label, [...path, 'auth'], ctx);
  const requestTimeoutMs = timeout(dto, 'requestTimeout', DEFAULT_REQUEST_TIMEOUT_MS, path, ctx);
  const firstByteTimeoutMs = timeout(
    dto,
    'firstByteTimeout',
    DEFAULT_FIRST_BYTE_TIMEOUT_MS,
    path,
    ctx,
  );
  if (firstByteTimeoutMs > requestTimeoutMs) {
    report.warn(
      doc,
      path,
      `${label}: firstByteTimeout (${firstByteTimeoutMs} ms) exceeds requestTimeout (${requestTimeoutMs} ms); the request timeout wins`,
    );
  }
  const streamIdleTimeoutMs = streamIdleTimeout(dto, requestTimeoutMs, label, path, ctx);
  return {
    name: dto.name,
    provider,
    ...(dto.model === undefined ? {} : { model: dto.model }),
    ...(dto.modelNameOverride === undefined ? {} : { modelNameOverride: dto.modelNameOverride }),
    ...(dto.model === undefined ? {} : { virtualModel: dto.modelNameOverride ?? dto.model }),
    priority,
    weight: dto.weight ?? DEFAULT_WEIGHT,
    ...(dto.baseUrl === undefined ? {} : { baseUrl: dto.baseUrl.replace(/\/+$/, '') }),
    ...(vertex === undefined ? {} : { vertex }),
    auth,
    requestTimeoutMs,
    firstByteTimeoutMs,
    streamIdleTimeoutMs,
  };
}

/**
 * A backend's request or first-byte timeout, the default when left out. 0 is refused: its
 * timer would fire before any answer could come, failing every call (undici would instead
 * read a headersTimeout of 0 as none: two meanings, neither of them meant).
 */
function timeout(
  dto: BackendDto,
  field: 'requestTimeout' | 'firstByteTimeout',
  fallback: number,
  path: readonly PathSegment[],
  { report, doc }: BackendContext,
): number {
  const set = optionalDuration(dto[field]);
  if (set === undefined) return fallback;
  if (set === 0) {
    report.error(
      doc,
      [...path, field],
      `expected a duration above 0 (leave it out for the default, ${shortDuration(fallback)})`,
    );
  }
  return set;
}

/** 300000 -> "5m", 15000 -> "15s": the defaults, as a config would write them. */
function shortDuration(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`;
}

/**
 * A stream's longest wait between events. Left out, the default, cut to requestTimeout
 * where that is shorter (the request timeout would end the call first anyway, and a
 * warning about a value nobody wrote would only be noise).
 */
function streamIdleTimeout(
  dto: BackendDto,
  requestTimeoutMs: number,
  label: string,
  path: readonly PathSegment[],
  { report, doc }: BackendContext,
): number {
  const set = optionalDuration(dto.streamIdleTimeout);
  if (set === undefined) return Math.min(DEFAULT_STREAM_IDLE_TIMEOUT_MS, requestTimeoutMs);
  if (set === 0) {
    // 0 would end every stream at its second event's wait.
    report.error(
      doc,
      [...path, 'streamIdleTimeout'],
      'expected a duration above 0 (leave it out for the default, 2m)',
    );
  } else if (set > requestTimeoutMs) {
    report.warn(
      doc,
      path,
      `${label}: streamIdleTimeout (${set} ms) exceeds requestTimeout (${requestTimeoutMs} ms); the request timeout wins`,
    );
  }
  return set;
}

/** A vertex backend's project and location, both required; other providers take neither. */
function vertexPlacement(
  dto: BackendDto,
  provider: ProviderKind,
  path: readonly PathSegment[],
  { report, doc }: BackendContext,
): VertexPlacement | undefined {
  if (provider !== 'vertex') {
    for (const field of ['project', 'location'] as const) {
      if (dto[field] !== undefined) {
        report.error(doc, [...path, field], `applies only to provider vertex (not ${provider})`);
      }
    }
    return undefined;
  }
  if (dto.project === undefined) {
    report.error(
      doc,
      [...path, 'project'],
      'is required for provider vertex (the Google Cloud project id)',
    );
  }
  if (dto.location === undefined) {
    report.error(
      doc,
      [...path, 'location'],
      'is required for provider vertex (a region such as "us-central1", or "global")',
    );
  }
  if (dto.project === undefined || dto.location === undefined) return undefined;
  return { project: dto.project, location: dto.location };
}

function optionalDuration(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseDuration(text);
}

function resolveProvider(
  dto: BackendDto,
  path: readonly PathSegment[],
  { report, doc }: BackendContext,
): ProviderKind | undefined {
  if (dto.provider !== undefined) {
    const canonical = canonicalProvider(dto.provider);
    if (canonical !== undefined && canonical !== dto.provider) {
      report.infer(doc, [...path, 'provider'], `provider "${dto.provider}" read as "${canonical}"`);
    }
    return canonical;
  }
  const fromName = providerFromBackendName(dto.name);
  if (fromName) {
    report.infer(
      doc,
      path,
      `backend "${dto.name}": provider ${fromName} inferred from the backend name`,
    );
    return fromName;
  }
  const fromModel = dto.model === undefined ? undefined : providerFromModel(dto.model);
  if (fromModel) {
    report.infer(
      doc,
      path,
      `backend "${dto.name}": provider ${fromModel} inferred from the model "${dto.model}"`,
    );
    return fromModel;
  }
  const why =
    dto.model !== undefined && isOpenWeightModel(dto.model)
      ? `model "${dto.model}" is served by several providers`
      : `neither the name "${dto.name}" nor ${dto.model === undefined ? 'a model' : `the model "${dto.model}"`} identifies one`;
  report.error(
    doc,
    [...path, 'provider'],
    `is required here (${why}); expected one of ${PROVIDER_KINDS.join(', ')}`,
  );
  return undefined;
}

function normalizeAuth(
  dto: BackendAuthDto | undefined,
  provider: ProviderKind,
  label: string,
  path: readonly PathSegment[],
  ctx: BackendContext,
): BackendAuth {
  const { report, doc } = ctx;
  if (dto === undefined) {
    if (provider === 'bedrock') {
      report.infer(doc, path, `${label}: AWS SigV4 signing with the default AWS credential chain`);
      return { kind: 'aws-sigv4' };
    }
    if (provider === 'vertex') {
      report.infer(
        doc,
        path,
        `${label}: access tokens from the Google metadata server (the instance's or Workload Identity's service account)`,
      );
      return { kind: 'none' };
    }
    if (expectsApiKey(provider)) {
      report.warn(
        doc,
        path,
        `${label} (${provider}) has no auth: requests go upstream without credentials`,
      );
    }
    return { kind: 'none' };
  }
  const keyFields = dto.apiKeyRef ?? dto.headerName ?? dto.headerPrefix;
  switch (dto.type) {
    case 'None':
    case 'AWSSigV4':
      if (keyFields !== undefined) {
        report.error(doc, path, `apiKeyRef, headerName and headerPrefix apply only to type APIKey`);
      }
      if (dto.type === 'None') return { kind: 'none' };
      if (provider !== 'bedrock') {
        report.error(doc, [...path, 'type'], `AWSSigV4 applies only to provider bedrock`);
      }
      return { kind: 'aws-sigv4' };
    case 'APIKey':
    case undefined:
      break;
  }
  if (dto.apiKeyRef === undefined) {
    report.error(doc, [...path, 'apiKeyRef'], 'is required for API key auth ({name, key})');
    return { kind: 'none' };
  }
  if (dto.type === undefined) {
    report.infer(doc, [...path, 'type'], `${label}: auth type APIKey inferred from apiKeyRef`);
  }
  const secretRef = { name: dto.apiKeyRef.name, key: dto.apiKeyRef.key ?? DEFAULT_SECRET_KEY };
  const header = apiKeyHeader(dto, provider, label, path, ctx);
  // Least privilege: a process that never calls a provider does not even read the key.
  if (ctx.missingSecrets === 'not-needed') {
    return { kind: 'apiKey', ...header, secretRef, keyHeldElsewhere: true };
  }
  const lookup = resolveSecret(secretRef, ctx.secrets);
  if (lookup.found) {
    if (provider === 'vertex' && !isServiceAccountKey(lookup.secret.reveal())) {
      // Said at load rather than at the first call; the secret's content is never shown.
      report.error(
        doc,
        [...path, 'apiKeyRef'],
        `${label}: secret "${secretRef.name}" key "${secretRef.key}" is not a service-account key (JSON with type service_account, client_email and private_key)`,
      );
    }
    return { kind: 'apiKey', apiKey: lookup.secret, ...header, secretRef };
  }
  const refPath = [...path, 'apiKeyRef'];
  // An optional key is the file's own say: it behaves the same whatever the file is called.
  if (ctx.missingSecrets === 'error' && dto.apiKeyRef.optional !== true) {
    report.error(doc, refPath, `${label}: ${lookup.reason}`);
  } else {
    report.warn(doc, refPath, `${label}: ${lookup.reason}; ${missingKeyConsequence(ctx)}`);
  }
  return { kind: 'apiKey', ...header, secretRef };
}

/**
 * What a missing key means for a backend that may run without it: never an unauthenticated
 * call (the router skips it). Only the secrets directory is watched; the environment of a
 * running process cannot change, so a key given there needs a restart.
 */
function missingKeyConsequence({ secrets }: Pick<BackendContext, 'secrets'>): string {
  const watched = secrets.secretsDir !== undefined && secrets.secretsDir !== '';
  return watched
    ? 'the backend is skipped until its key appears (the secrets directory is watched)'
    : 'the backend is skipped until its key appears (environment variables are read at start: restart with it set, or use AI_GATEWAY_SECRETS_DIR)';
}

/** Whether a secret is a Google service-account key file, as Vertex backends need. */
function isServiceAccountKey(text: string): boolean {
  try {
    const key = JSON.parse(text) as Record<string, unknown> | null;
    return (
      key?.type === 'service_account' &&
      typeof key.client_email === 'string' &&
      typeof key.private_key === 'string'
    );
  } catch {
    return false;
  }
}

function apiKeyHeader(
  dto: BackendAuthDto,
  provider: ProviderKind,
  label: string,
  path: readonly PathSegment[],
  { report, doc }: BackendContext,
) {
  if (provider === 'vertex') {
    if (dto.headerName !== undefined || dto.headerPrefix !== undefined) {
      report.error(
        doc,
        path,
        'headerName and headerPrefix do not apply to provider vertex (its apiKeyRef is a service-account key, exchanged for access tokens)',
      );
    }
    report.infer(
      doc,
      path,
      `${label}: apiKeyRef holds a service-account key (JSON), exchanged for access tokens`,
    );
    return defaultApiKeyHeader(provider);
  }
  const preset = defaultApiKeyHeader(provider);
  const headerName = dto.headerName ?? preset.headerName;
  // The provider's prefix ("Bearer ") belongs to its own header; a custom header gets none.
  const headerPrefix =
    dto.headerPrefix ??
    (headerName.toLowerCase() === preset.headerName.toLowerCase() ? preset.headerPrefix : '');
  if (dto.headerName === undefined || dto.headerPrefix === undefined) {
    // Not "Authorization: Bearer <key>": the log masks header-shaped text, and would print
    // "Authorization: [REDACTED]" for a note that holds no secret.
    const prefix = headerPrefix === '' ? '' : ` after "${headerPrefix}"`;
    report.infer(
      doc,
      path,
      `${label}: API key sent in the ${headerName} header${prefix} (${provider} default)`,
    );
  }
  return { headerName, headerPrefix };
}
