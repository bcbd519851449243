// Entry points: text or file in, a validated frozen GatewayConfig (plus warnings and
// inferences) or a list of one-line errors out. Never throws for a bad file. The load is
// written once as steps (steps.ts): run straight through (parseGatewayConfig), or in slices
// that give the event loop back (a file's load, so a reload does not hold up the requests
// being served).
import { readFile } from 'node:fs/promises';
import { type ClassConstructor } from 'class-transformer';
import { ConfigIssue, type ConfigDocumentRef, type PathSegment } from '../domain/config-issue';
import {
  type GatewayConfig,
  type RouteConfig,
  type SecurityPolicyConfig,
  type UserTierConfig,
} from '../domain/gateway-config';
import {
  hasWildcardBackend,
  routeVirtualModels,
  unresolvedFallbackModels,
  virtualModels,
} from '../domain/model-resolution';
import { RouteDocumentDto, RouteSpecDto, ROUTE_API_VERSIONS } from '../schema/route.dto';
import { SecurityPolicyDocumentDto } from '../schema/security-policy.dto';
import { BackendDto } from '../schema/backend.dto';
import { UserTierDto, UserTiersDocumentDto } from '../schema/user-tier.dto';
import { SECRETS_DIR_ENV } from '../secrets/secret-resolver';
import { classifyDocument } from './classify-document';
import { deepFreeze } from './deep-freeze';
import { type LoadOptions } from './load-options';
import { normalizeRoute } from './normalize-route';
import { normalizeSecurityPolicy } from './normalize-security-policy';
import { normalizeUserTiers } from './normalize-user-tiers';
import { LoadReport, type DocumentContext } from './report';
import { runInSlices, runToEnd, type SliceOptions, type Steps } from './steps';
import { validateInSlices, type ListSlot } from './validate-in-slices';
import { yamlDocumentSteps, type YamlDocument } from './yaml-documents';
import { type BackendContext } from './normalize-backends';

export type LoadResult =
  | {
      readonly ok: true;
      readonly config: GatewayConfig;
      readonly warnings: string[];
      readonly inferences: string[];
      /** Documents left aside (Kubernetes resources that are not for the gateway), one line each. */
      readonly notes: string[];
      readonly skippedDocuments: number;
      /**
       * The text loaded: what a watcher compares the file with, and reloads when only its
       * keys change (configTextDigest() names it in metrics; the text itself is never shown).
       */
      readonly sourceText: string;
    }
  | { readonly ok: false; readonly errors: ConfigIssue[] };

interface Collected {
  /** `written`: the route's backend names in the file's order (RouteConfig's are sorted). */
  routes: {
    route: RouteConfig;
    doc: DocumentContext;
    base: PathSegment[];
    written: readonly string[];
  }[];
  policies: { policy: SecurityPolicyConfig; doc: DocumentContext }[];
  tiers: UserTierConfig[];
  implicitRoutes: number;
  skipped: number;
}

/** Parses and validates YAML text. Synchronous: secrets files are small and read once. */
export function parseGatewayConfig(text: string, options: LoadOptions = {}): LoadResult {
  return runToEnd(loadSteps(text, options));
}

/**
 * The same load, the same result, giving the event loop back every few milliseconds, so
 * requests in flight are served while a large file is read (every file load: start-up,
 * the CLI, a hot reload).
 */
export function parseGatewayConfigInSlices(
  text: string,
  options: LoadOptions = {},
  slices: SliceOptions = {},
): Promise<LoadResult> {
  return runInSlices(loadSteps(text, options), slices);
}

function* loadSteps(text: string, options: LoadOptions): Steps<LoadResult> {
  const report = new LoadReport(options.sourceName);
  const env = options.env ?? process.env;
  const base: Omit<BackendContext, 'doc'> = {
    report,
    missingSecrets: options.missingSecrets ?? 'error',
    secrets: { env, secretsDir: options.secretsDir ?? env[SECRETS_DIR_ENV] },
  };
  const parsed = yield* yamlDocumentSteps(text);
  for (const e of parsed.errors) {
    report.errors.push(
      report.raw(
        { index: e.documentIndex },
        e.line,
        e.plain === true ? `YAML: ${e.message}` : `YAML syntax error: ${e.message}`,
      ),
    );
  }
  for (const w of parsed.warnings) {
    report.warnings.push(report.raw({ index: w.documentIndex }, w.line, `YAML: ${w.message}`));
  }
  if (parsed.errors.length > 0) return { ok: false, errors: report.errors };
  if (parsed.documents.length === 0) {
    report.errors.push(report.raw(undefined, undefined, 'no YAML documents: the file is empty'));
    return { ok: false, errors: report.errors };
  }
  const collected: Collected = {
    routes: [],
    policies: [],
    tiers: [],
    implicitRoutes: 0,
    skipped: 0,
  };
  for (const yamlDoc of parsed.documents) yield* loadDocument(yamlDoc, base, collected);
  if (collected.skipped > 0 && collected.routes.length === 0) {
    report.warn(
      undefined,
      [],
      'no AIGatewayRoute left once the skipped documents are set aside: no model is served',
    );
  }
  yield;
  crossCheck(collected, report);
  if (report.errors.length > 0) return { ok: false, errors: report.errors };
  yield;
  const config: GatewayConfig = deepFreeze({
    documentCount: parsed.documents.length,
    routes: collected.routes.map((r) => r.route),
    securityPolicies: collected.policies.map((p) => p.policy),
    userTiers: collected.tiers,
  });
  return {
    ok: true,
    config,
    warnings: report.warnings.map((w) => w.format()),
    inferences: report.inferences.map((i) => i.format()),
    notes: report.notes.map((n) => n.format()),
    skippedDocuments: collected.skipped,
    sourceText: text,
  };
}

/** Reads and validates a config file; an unreadable file is an error result, not a throw. */
export async function loadGatewayConfigFile(
  path: string,
  options: LoadOptions = {},
): Promise<LoadResult> {
  const sourceName = options.sourceName ?? path;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code;
    return {
      ok: false,
      errors: [
        new ConfigIssue(undefined, '', `cannot read config file: ${why}`, undefined, sourceName),
      ],
    };
  }
  return parseGatewayConfigInSlices(text, { ...options, sourceName });
}

function documentRef(index: number, value: unknown): ConfigDocumentRef {
  const doc = (value ?? {}) as { kind?: unknown; metadata?: { name?: unknown } };
  const kind = typeof doc.kind === 'string' ? doc.kind.slice(0, 60) : undefined;
  const name = typeof doc.metadata?.name === 'string' ? doc.metadata.name.slice(0, 100) : undefined;
  return {
    index,
    ...(kind === undefined ? {} : { kind }),
    ...(name === undefined ? {} : { name }),
  };
}

/** The lists of a route spec that can be long enough to validate a slice at a time. */
const routeListsAt = (spec: readonly string[]): ListSlot[] => [
  { path: [...spec, 'backends'], item: BackendDto },
  { path: [...spec, 'userTiers'], item: UserTierDto },
];
const ROUTE_DOCUMENT_LISTS = routeListsAt(['spec']);
const ROUTE_SPEC_LISTS = routeListsAt([]);
const TIER_DOCUMENT_LISTS: ListSlot[] = [{ path: ['userTiers'], item: UserTierDto }];

function* loadDocument(
  yamlDoc: YamlDocument,
  base: Omit<BackendContext, 'doc'>,
  out: Collected,
): Steps<void> {
  yield;
  const { report } = base;
  const doc: DocumentContext = {
    ref: documentRef(yamlDoc.index, yamlDoc.value),
    lineOf: yamlDoc.lineOf,
  };
  const ctx: BackendContext = { ...base, doc };
  const kind = classifyDocument(yamlDoc.value);
  const value = yamlDoc.value as Record<string, unknown>;
  function* validated<T extends object>(
    cls: ClassConstructor<T>,
    lists: readonly ListSlot[],
    where: DocumentContext = doc,
  ): Steps<T | undefined> {
    const result = yield* validateInSlices(cls, value, lists);
    if (result.ok) return result.value;
    for (const p of result.problems) report.error(where, p.segments, p.message);
    return undefined;
  }
  if (kind.type !== 'rejected' && kind.type !== 'skipped') {
    const where: DocumentContext =
      kind.type === 'implicitRoute'
        ? { ...doc, ref: { ...doc.ref, kind: 'AIGatewayRoute', name: implicitRouteName(out) } }
        : doc;
    warnPlaceholders(yamlDoc.value, [], where, report);
  }
  switch (kind.type) {
    case 'rejected':
      report.error(doc, kind.field === '' ? [] : [kind.field], kind.message);
      return;
    case 'skipped':
      out.skipped += 1;
      report.note(doc, [], kind.note);
      return;
    case 'route': {
      const dto = yield* validated(RouteDocumentDto, ROUTE_DOCUMENT_LISTS);
      if (!dto) return;
      if (dto.apiVersion === undefined) {
        report.infer(doc, ['apiVersion'], `missing: ${ROUTE_API_VERSIONS[0]} assumed`);
      }
      out.routes.push({
        route: normalizeRoute(dto.metadata.name, dto.spec, ['spec'], ctx),
        doc,
        base: ['spec'],
        written: (dto.spec.backends ?? []).map((b) => b.name),
      });
      return;
    }
    case 'securityPolicy': {
      const dto = yield* validated(SecurityPolicyDocumentDto, []);
      if (!dto) return;
      out.policies.push({
        policy: normalizeSecurityPolicy(dto.metadata.name, dto.spec, doc, report),
        doc,
      });
      return;
    }
    case 'userTiers': {
      const dto = yield* validated(UserTiersDocumentDto, TIER_DOCUMENT_LISTS);
      if (dto) out.tiers.push(...normalizeUserTiers(dto.userTiers, ['userTiers'], doc, report));
      return;
    }
    case 'implicitRoute': {
      const name = implicitRouteName(out);
      out.implicitRoutes += 1;
      const named: DocumentContext = { ...doc, ref: { ...doc.ref, kind: 'AIGatewayRoute', name } };
      const dto = yield* validated(RouteSpecDto, ROUTE_SPEC_LISTS, named);
      if (!dto) return;
      report.infer(named, [], `no kind: read as the spec of an AIGatewayRoute named "${name}"`);
      out.routes.push({
        route: normalizeRoute(name, dto, [], { ...ctx, doc: named }),
        doc: named,
        base: [],
        written: (dto.backends ?? []).map((b) => b.name),
      });
      return;
    }
  }
}

/** The name the next kind-less route document gets: default, default-2, ... */
function implicitRouteName(out: Collected): string {
  const n = out.implicitRoutes + 1;
  return n === 1 ? 'default' : `default-${n}`;
}

const PLACEHOLDER = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/;

/**
 * The loader reads no environment variables into values: a "${VAR}" meant for envsubst (or
 * a template never rendered) would reach a provider as written, so each one is a warning.
 */
function warnPlaceholders(
  value: unknown,
  path: PathSegment[],
  doc: DocumentContext,
  report: LoadReport,
): void {
  // `path` is one array pushed and popped along the walk (a copy per value was most of
  // the walk's cost), copied only for a warning.
  if (typeof value === 'string') {
    const placeholder = PLACEHOLDER.exec(value)?.[0];
    if (placeholder !== undefined) {
      report.warn(
        doc,
        [...path],
        `holds ${placeholder}, which is kept as written: the gateway does not interpolate environment variables (render the file first, e.g. with envsubst)`,
      );
    }
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      path.push(index);
      warnPlaceholders(item, path, doc, report);
      path.pop();
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      // Labels and annotations are read by other tools, never by the gateway.
      if (path.length === 0 && key === 'metadata') continue;
      path.push(key);
      warnPlaceholders(item, path, doc, report);
      path.pop();
    }
  }
}

function crossCheck(collected: Collected, report: LoadReport) {
  const routeNames = new Set<string>();
  for (const { route, doc, base } of collected.routes) {
    if (routeNames.has(route.name))
      report.error(doc, ['metadata', 'name'], `duplicate route name "${route.name}"`);
    routeNames.add(route.name);
    const unresolved = unresolvedFallbackModels(route);
    if (unresolved.length > 0) {
      report.warn(
        doc,
        [...base, 'retry', 'fallbackOrder'],
        `names ${unresolved.map((m) => `"${m}"`).join(', ')}, which no backend of route "${route.name}" serves; requests falling back to ${unresolved.length === 1 ? 'it' : 'them'} will fail`,
      );
    }
  }
  checkSharedBackendNames(collected, report);
  checkModelsServedTwice(collected, report);
  checkModelKeysCalled(collected, report);
  const jwtProviders = new Set<string>();
  const policyNames = new Set<string>();
  for (const { policy, doc } of collected.policies) {
    if (policyNames.has(policy.name))
      report.error(doc, ['metadata', 'name'], `duplicate SecurityPolicy name "${policy.name}"`);
    policyNames.add(policy.name);
    for (const provider of policy.jwtProviders) jwtProviders.add(provider.name);
    policy.targetRefs.forEach((ref, index) => {
      // Only these bind (routeJwtProviders): another kind leaves the route it meant open.
      if (ref.kind !== 'AIGatewayRoute') {
        report.warn(
          doc,
          ['spec', 'targetRefs', index, 'kind'],
          `is "${ref.kind.slice(0, 60)}": only AIGatewayRoute targets are bound, so this ref binds nothing and no route gets this policy through it`,
        );
      } else if (!routeNames.has(ref.name)) {
        report.warn(
          doc,
          ['spec', 'targetRefs', index],
          `no AIGatewayRoute named "${ref.name}" in this file`,
        );
      }
    });
  }
  checkRouteProviderNames(collected, report);
  for (const { route, doc, base } of collected.routes) {
    for (const source of route.userIdentification.sources) {
      if (source.kind === 'jwt' && !jwtProviders.has(source.provider)) {
        report.warn(
          doc,
          [...base, 'userIdentification', 'jwt', 'provider'],
          `"${source.provider}" is not a JWT provider of any SecurityPolicy in this file`,
        );
      }
    }
  }
  const tierNames = new Set<string>();
  for (const tier of collected.tiers) {
    if (tierNames.has(tier.name))
      report.error(undefined, ['userTiers'], `duplicate tier "${tier.name}" across documents`);
    tierNames.add(tier.name);
  }
  const defaults = collected.tiers.filter((tier) => tier.default);
  if (defaults.length > 1) {
    report.error(
      undefined,
      ['userTiers'],
      `tiers ${defaults.map((t) => `"${t.name}"`).join(', ')} all set default: true across documents: at most one tier may`,
    );
  }
  checkTierModels(collected, report);
  checkRouteTierModels(collected, report);
}

/**
 * Usage is priced and settled by (route, backend name), so a name in two routes prices
 * each by its own route; but cooldowns and drains are kept by name alone: a backend that
 * fails cools down, and a drain takes out, the other route's backend of that name too.
 */
function checkSharedBackendNames(collected: Collected, report: LoadReport) {
  const firstRoute = new Map<string, string>();
  for (const { route, doc, base, written } of collected.routes) {
    written.forEach((name, index) => {
      const first = firstRoute.get(name);
      if (first === undefined) firstRoute.set(name, route.name);
      else if (first !== route.name) {
        report.warn(
          doc,
          [...base, 'backends', index, 'name'],
          `"${name}" is also a backend of route "${first}": cooldowns and drains are kept by backend name, so they apply to both; give it a name of its own`,
        );
      }
    });
  }
}

/**
 * A request goes to the first route that names its model (routeForModel), so a later
 * route's backends for that model are never called for it; only the later route's own
 * `retry.fallbackOrder` reaches them. Said once per route and model, at its first backend.
 */
function checkModelsServedTwice(collected: Collected, report: LoadReport) {
  const firstRoute = new Map<string, string>();
  for (const { route, doc, base, written } of collected.routes) {
    const fallbackOrder = route.retry?.fallbackOrder ?? [];
    const byName = new Map(route.backends.map((b) => [b.name, b]));
    const warned = new Set<string>();
    written.forEach((name, index) => {
      const backend = byName.get(name);
      const model = backend?.virtualModel;
      if (model === undefined || warned.has(model)) return;
      const first = firstRoute.get(model);
      if (first === undefined) firstRoute.set(model, route.name);
      else if (first !== route.name && !fallbackOrder.includes(model)) {
        warned.add(model);
        const field = backend?.modelNameOverride === undefined ? 'model' : 'modelNameOverride';
        report.warn(
          doc,
          [...base, 'backends', index, field],
          `"${model}" is also served by route "${first}", the first route naming it, which takes every request for it: route "${route.name}"'s backends for it are never called; serve each model from one route`,
        );
      }
    });
  }
}

/**
 * `tokenRateLimit.perModel` and `modelCosts` are looked up by the model a backend calls
 * (its `model`; the client's name only for a wildcard backend), so an entry naming any other
 * model (a typo, the client-facing `modelNameOverride`) never applies: the limit is never
 * enforced, the multiplier never charged. Routes with a wildcard backend can call any model.
 */
function checkModelKeysCalled(collected: Collected, report: LoadReport) {
  for (const { route, doc, base } of collected.routes) {
    if (route.backends.length === 0 || hasWildcardBackend(route)) continue;
    const called = new Set(route.backends.map((backend) => backend.model));
    const calledList = [...called].map((model) => `"${model}"`).join(', ');
    const uncalled = (model: string, path: PathSegment[], what: string) => {
      if (called.has(model)) return;
      report.warn(
        doc,
        path,
        `no backend of route "${route.name}" calls model "${model}" (they call ${calledList}), so this ${what} never applies; name the model a backend calls (its model, not its modelNameOverride)`,
      );
    };
    for (const model of Object.keys(route.tokenRateLimit?.perModel ?? {})) {
      uncalled(model, [...base, 'tokenRateLimit', 'perModel', model], 'limit');
    }
    route.modelCosts.forEach((cost, index) => {
      uncalled(cost.model, [...base, 'modelCosts', index, 'model'], 'multiplier');
    });
  }
}

/**
 * A route's JWT providers are told apart by name (userIdentification.jwt.provider names
 * one): two SecurityPolicies targeting the same route may not both declare a provider of
 * one name, or the route would silently use only one of them.
 */
function checkRouteProviderNames(collected: Collected, report: LoadReport) {
  // By route name, then provider name: the policy that declared it first.
  const declared = new Map<string, Map<string, string>>();
  for (const { policy, doc } of collected.policies) {
    const routes = new Set(
      policy.targetRefs.filter((ref) => ref.kind === 'AIGatewayRoute').map((ref) => ref.name),
    );
    for (const route of routes) {
      let providers = declared.get(route);
      if (!providers) {
        providers = new Map<string, string>();
        declared.set(route, providers);
      }
      policy.jwtProviders.forEach((provider, index) => {
        const first = providers.get(provider.name);
        if (first === undefined) providers.set(provider.name, policy.name);
        else if (first !== policy.name) {
          report.error(
            doc,
            ['spec', 'jwt', 'providers', index, 'name'],
            `JWT provider "${provider.name}" is also declared by SecurityPolicy "${first}"; both policies target AIGatewayRoute "${route}", whose providers must have distinct names: rename one`,
          );
        }
      });
    }
  }
}

function checkTierModels(collected: Collected, report: LoadReport) {
  const routes = collected.routes.map((r) => r.route);
  if (routes.length === 0 || routes.some(hasWildcardBackend)) return;
  const served = new Set(
    virtualModels({ documentCount: 0, routes, securityPolicies: [], userTiers: [] }),
  );
  for (const tier of collected.tiers) {
    const missing = tier.allowedModels.filter((m) => !served.has(m));
    if (missing.length > 0) {
      report.warn(
        undefined,
        ['userTiers'],
        `tier "${tier.name}" allows ${missing.map((m) => `"${m}"`).join(', ')}, which no route serves`,
      );
    }
  }
}

/**
 * A route's own tiers apply to the requests that route takes, which are for the models it
 * names: a model in such a tier's allowedModels that the route does not serve (a typo) is
 * one its callers can never be allowed.
 */
function checkRouteTierModels(collected: Collected, report: LoadReport) {
  for (const { route, doc, base } of collected.routes) {
    if (route.userTiers.length === 0 || route.backends.length === 0) continue;
    if (hasWildcardBackend(route)) continue;
    const served = new Set(routeVirtualModels(route));
    route.userTiers.forEach((tier, index) => {
      const missing = tier.allowedModels.filter((model) => !served.has(model));
      if (missing.length === 0) return;
      report.warn(
        doc,
        [...base, 'userTiers', index, 'allowedModels'],
        `tier "${tier.name}" allows ${missing.map((m) => `"${m}"`).join(', ')}, which route "${route.name}" does not serve`,
      );
    });
  }
}
