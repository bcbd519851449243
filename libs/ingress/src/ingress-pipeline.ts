import {
  routeForModel,
  type GatewayConfig,
  type MediaUrlsConfig,
  type RouteConfig,
} from '@aigw/config';
import {
  callerOwnerKey,
  type CallerContext,
  type GatewayAnswer,
  type GatewayRequest,
  type JsonObject,
  modelNotServed,
  type Operation,
  type RouterPort,
  type ServedBy,
  type TokenUsage,
} from '@aigw/contracts/data-plane';
import { servingModels } from '@aigw/budget-core';
import { pricedDollars } from './domain/answer-cost';
import { refuseTooDeepToolArguments } from './domain/body-depth';
import { forwardableHeaders, withTraceHeaders } from './domain/header-policy';
import { refuseMediaUrls, type MediaUrlPart } from './domain/media-urls';
import { PromptGuard } from './domain/prompt-guard';
import { buildGatewayRequest } from './domain/request-builder';
import { requestOverrides } from './domain/request-overrides';
import { checkTextShapes } from './domain/text-shapes';
import { checkTokenIdPrompts, type PromptRules } from './domain/token-id-prompts';
import { AnswerGuard, type AnswerReport } from './redaction/answer-guard';
import { redactBody } from './redaction/redact-body';
import { Redactor, type RedactionTally } from './redaction/redactor';
import {
  CallerIdentifier,
  identityOptionsFromEnv,
  type CallerIdentity,
  type IdentityOptions,
} from './identity';
import {
  lookAcrossRoutes,
  tierAllows,
  unansweredLook,
  type RouteLook,
} from './identity/caller-across-routes';
import type { RoutePayloadLogging } from './payloads/payload-capture';
import type { EdgeTracing, TraceHeaders } from './tracing/edge-tracing';

type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

const ANONYMOUS = 'anonymous';
// The provisional request's caller, until identity says who it is: shared, not made per
// request (frozen, as nothing may write to them).
const ANONYMOUS_CALLER: CallerContext = Object.freeze({ userKey: ANONYMOUS });
const NO_MODELS: readonly string[] = Object.freeze([]);
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** Who a caller is, kept apart from the credential that said so (see `identityFor`). */
export interface BoundCaller {
  readonly caller: CallerContext;
  /** The tier's allowedModels; empty = any model. */
  readonly allowedModels: readonly string[];
  /** When the credential that said so expires (Unix seconds), when known (a JWT's `exp`). */
  readonly credentialExpiresAt?: number;
}

/** Per-configuration state that is costly to rebuild per request (compiled patterns). */
interface CompiledRoute {
  readonly route: RouteConfig;
  readonly guard: PromptGuard;
  /**
   * Whether the guard has a pattern to test: only then is the prompt's text gathered (a
   * string built from every message, for nothing on a route without blockPatterns).
   */
  readonly checksPrompts: boolean;
  /** Absent when the route redacts nothing: then redaction costs one check. */
  readonly redactor?: Redactor;
  /**
   * Absent when the route has no prompt rule: then token ids pass unread, at no cost.
   * Present, a body's token ids are decoded and read by the rules (token-id-prompts).
   */
  readonly tokenIdRules?: PromptRules;
  /** Absent when the route checks no answers (`security.responseValidation`). */
  readonly answerGuard?: AnswerGuard;
  readonly stripHeaders: readonly string[];
  /** Absent unless the route logs prompts and answers. */
  readonly payloadLogging?: RoutePayloadLogging;
  /** Absent unless the route refuses media URLs (`security.mediaUrls`). */
  readonly mediaUrls?: MediaUrlsConfig;
}

/** What the pipeline tells beside its answers (counted by the observer). */
export interface PipelineReports {
  /** A prompt's media URL refused by `security.mediaUrls` on the route named. */
  mediaUrlRefused?(route: string, part: MediaUrlPart): void;
}

/** The report for one answer's checks on the route named (config names). */
export type RouteAnswerReport = (route: string) => AnswerReport;

/** What a request's redaction masked, per detector, on the route named. */
export type RedactionReport = (route: string, tally: ReadonlyMap<string, number>) => void;

/**
 * The edge's work for one request, independent of the HTTP framework: check the body,
 * identify the caller, sanitize headers, apply prompt rules, and hand it to the router.
 */
export class IngressPipeline {
  private compiledFor?: GatewayConfig;
  private compiled = new Map<RouteConfig, CompiledRoute>();
  /** Whether any route checks answers: when none does, answers cost no look-up. */
  private answersChecked = false;
  /** Whether any route logs payloads: when none does, a request costs this one check. */
  private payloadsLogged = false;
  private readonly identifier: CallerIdentifier;

  constructor(
    private readonly config: () => GatewayConfig,
    private readonly router: RouterPort,
    identityOptions: IdentityOptions = identityOptionsFromEnv(),
    /** Opens each call's span; absent (tracing off), nothing is traced. */
    private readonly tracing?: EdgeTracing,
    private readonly reports: PipelineReports = {},
  ) {
    this.identifier = new CallerIdentifier(config, identityOptions);
  }

  /**
   * Synchronous unless the caller's JWT must be verified now (not yet seen, or keys to
   * fetch): only then is a promise returned, so header-identified traffic pays nothing.
   * `startedAt` (`performance.now()`) is when the request reached the edge, where its span
   * starts when tracing is on.
   */
  prepare(
    operation: Operation,
    body: unknown,
    headers: IncomingHeaders,
    requestId: string,
    startedAt?: number,
  ): GatewayRequest | Promise<GatewayRequest> {
    // First, so the span covers identity and the prompt rules, and ends if they refuse.
    const trace = this.tracing?.open(requestId, operation, headers, startedAt);
    return this.identified(operation, body, headers, requestId, trace);
  }

  /**
   * `prepare` for a request that calls no model (a token count): no span is opened, as
   * no answer or failure will be reported to end one (each would stay open, held in memory).
   */
  prepareUntraced(
    operation: Operation,
    body: unknown,
    headers: IncomingHeaders,
    requestId: string,
  ): GatewayRequest | Promise<GatewayRequest> {
    return this.identified(operation, body, headers, requestId, undefined);
  }

  /** The request with its caller identified and the prompt rules applied (`prepare`'s). */
  private identified(
    operation: Operation,
    body: unknown,
    headers: IncomingHeaders,
    requestId: string,
    trace: TraceHeaders | undefined,
  ): GatewayRequest | Promise<GatewayRequest> {
    const provisional = buildGatewayRequest(operation, body, {
      requestId,
      caller: ANONYMOUS_CALLER,
      allowedModels: NO_MODELS,
      forwardHeaders: NO_HEADERS,
    });
    const route = this.routeFor(provisional.requestedModel);
    // Refused here, not sent on as an anonymous caller with every model allowed: each
    // service reloads the configuration in its own time, and a router that already has a
    // route for this model would serve it with no identity, JWT or tier applied.
    if (!route) throw modelNotServed(provisional.requestedModel);
    const identity = this.identifier.identify(headers, route.route);
    return identity instanceof Promise
      ? identity.then((resolved) => admit(operation, provisional, route, resolved, trace))
      : admit(operation, provisional, route, identity, trace);
  }

  /**
   * The caller and its tier's models as the route serving `model` identifies callers, for
   * a grant made now and used later (a Realtime client secret); undefined when no route
   * serves the model.
   */
  identityFor(
    model: string,
    headers: IncomingHeaders,
  ): BoundCaller | undefined | Promise<BoundCaller> {
    const route = this.routeFor(model);
    if (!route) return undefined;
    const bound = ({
      caller,
      allowedModels,
      credentialExpiresAt,
    }: CallerIdentity): BoundCaller => ({
      caller,
      allowedModels,
      ...(credentialExpiresAt === undefined ? {} : { credentialExpiresAt }),
    });
    const identity = this.identifier.identify(headers, route.route);
    return identity instanceof Promise ? identity.then(bound) : bound(identity);
  }

  /**
   * `prepare` for a caller identified earlier (`identityFor`, kept with a Realtime client
   * secret): the same request, traced the same way, with no client header forwarded (the
   * credential it came with vouches only for the identity bound to it).
   */
  prepareAs(
    operation: Operation,
    body: unknown,
    bound: BoundCaller,
    requestId: string,
    startedAt?: number,
  ): GatewayRequest {
    const trace = this.tracing?.open(requestId, operation, NO_HEADERS, startedAt);
    const provisional = buildGatewayRequest(operation, body, {
      requestId,
      caller: ANONYMOUS_CALLER,
      allowedModels: NO_MODELS,
      forwardHeaders: NO_HEADERS,
    });
    const route = this.routeFor(provisional.requestedModel);
    if (!route) throw modelNotServed(provisional.requestedModel);
    const identity: CallerIdentity = {
      caller: bound.caller,
      allowedModels: bound.allowedModels,
      headers: NO_HEADERS,
      gatewayHeaders: NO_MODELS,
    };
    return admit(operation, provisional, route, identity, trace);
  }

  /**
   * The caller's owner key (callerOwnerKey) as the route serving `model` identifies
   * callers, for looks at a stored object (a stored response's, a file's: its model says
   * which route made it); undefined when no route serves the model any more.
   */
  ownerKeyFor(model: string, headers: IncomingHeaders): string | undefined | Promise<string> {
    const route = this.routeFor(model);
    if (!route) return undefined;
    const identity = this.identifier.identify(headers, route.route);
    return identity instanceof Promise
      ? identity.then((resolved) => callerOwnerKey(resolved.caller))
      : callerOwnerKey(identity.caller);
  }

  /**
   * The caller's owner key as ownerKeyFor gives it, or undefined when the route serving
   * `model` does not identify the caller (a JWT route without a token, a tier it lacks) or
   * no route serves it: for asking whether a record found is the caller's, where that is
   * "not yours", not a refused request, so not counted as an identity refusal.
   */
  async ownerKeyIfIdentified(model: string, headers: IncomingHeaders): Promise<string | undefined> {
    try {
      const route = this.routeFor(model);
      if (!route) return undefined;
      const identity = await this.identifier.identifyWithoutTelling(headers, route.route);
      return callerOwnerKey(identity.caller);
    } catch {
      return undefined;
    }
  }

  /**
   * The caller (user key and tier) as the route serving `model` identifies callers, for
   * work the router never sees that budgets must still attribute (a batch); undefined
   * when no route serves the model.
   */
  callerFor(
    model: string,
    headers: IncomingHeaders,
  ): CallerContext | undefined | Promise<CallerContext> {
    const route = this.routeFor(model);
    if (!route) return undefined;
    const identity = this.identifier.identify(headers, route.route);
    return identity instanceof Promise
      ? identity.then((resolved) => resolved.caller)
      : identity.caller;
  }

  /**
   * Whether the caller's tier (as the route serving `model` identifies callers) may use
   * `model`, as the router checks a call's; true for a model no route serves (the caller
   * answers that itself). For requests the router never sees (files and batches).
   */
  mayUse(model: string, headers: IncomingHeaders): boolean | Promise<boolean> {
    const route = this.routeFor(model);
    if (!route) return true;
    const allows = ({ allowedModels }: CallerIdentity) => tierAllows(allowedModels, model);
    const identity = this.identifier.identify(headers, route.route);
    return identity instanceof Promise ? identity.then(allows) : allows(identity);
  }

  /**
   * The owner keys the caller proves where no model is named (conversations; lists of files,
   * batches and Gemini files, which keep each record only where its own route names it): its
   * owner key as each route identifying it gives it, strongest first: routes requiring a
   * JWT (in configuration order), then the wildcard backend's route, then the others. An
   * object is made under the first and reached under any: a JWT user owns what it makes
   * even where the wildcard route trusts a header, and a header (a key apart from any
   * JWT's once users are identified two ways) never reaches it. When no route identifies
   * the caller, the wildcard (else first) route's refusal; no route at all, no key.
   */
  async ownerKeysWithoutModel(headers: IncomingHeaders): Promise<readonly string[]> {
    const config = this.config();
    const fallback = routeForModel(config, '') ?? config.routes[0];
    if (!fallback) return NO_MODELS;
    const jwt = config.routes.filter((route) => this.identifier.requiresJwt(route));
    const rest = config.routes.filter((route) => route !== fallback && !jwt.includes(route));
    const ordered = [...new Set([...jwt, fallback, ...rest])];
    const looks = await this.looksAt(ordered, headers);
    const keys = looks.flatMap((look) =>
      'identity' in look ? [callerOwnerKey(look.identity.caller)] : [],
    );
    const refused = keys.length === 0 && looks.find((look) => look.route === fallback);
    if (refused && 'refusal' in refused) this.identifier.refuse(refused.refusal);
    return [...new Set(keys)];
  }

  /**
   * The served models the caller may call (`GET /v1/models`): each model's route
   * identifies the caller as a call would, and its tier's allowedModels apply; a route
   * refusing the caller lists none of its models. When every route serving a model needs
   * a JWT and none identifies the caller, its refusal is the answer (401 without a valid
   * token, as a call gets), so a JWT-only gateway names its models to no stranger; while
   * one route is open, the answer is a list (health checks and keyless clients list models).
   */
  async modelsFor(headers: IncomingHeaders): Promise<readonly string[]> {
    const served = this.listModels();
    const byRoute = this.modelsByRoute(served);
    const looks = await this.looksAt([...byRoute.keys()], headers);
    const [first] = looks;
    if (first && 'refusal' in first) {
      const noneIdentified = looks.every((look) => 'refusal' in look);
      const allNeedJwt = looks.every((look) => this.identifier.requiresJwt(look.route));
      if (noneIdentified && allNeedJwt) this.identifier.refuse(first.refusal);
    }
    const usable = new Set(
      looks.flatMap((look) =>
        'identity' in look
          ? byRoute.get(look.route)!.filter((m) => tierAllows(look.identity.allowedModels, m))
          : [],
      ),
    );
    return served.filter((model) => usable.has(model));
  }

  /**
   * One model as `modelsFor` would list it (`GET /v1/models/{id}`), looking only at the
   * route serving it, so another route's trouble (its provider's keys away: a 503) is not
   * this model's answer. A model not this caller's to call is the 404 of one not served;
   * where every route serving models needs a JWT, the route's refusal is the answer, as a
   * call gets. A name not served is answered as the list would (a 401 to a stranger of a
   * JWT-only gateway) and then 404.
   */
  async modelFor(headers: IncomingHeaders, model: string): Promise<string> {
    const byRoute = this.modelsByRoute(this.listModels());
    const route = [...byRoute].find(([, models]) => models.includes(model))?.[0];
    if (!route) {
      await this.modelsFor(headers);
      throw modelNotServed(model);
    }
    const [look] = await this.looksAt([route], headers);
    if ('identity' in look) {
      if (tierAllows(look.identity.allowedModels, model)) return model;
    } else if ([...byRoute.keys()].every((each) => this.identifier.requiresJwt(each))) {
      this.identifier.refuse(look.refusal);
    }
    throw modelNotServed(model);
  }

  /** The served models grouped by the route serving each (one no route serves is left out). */
  private modelsByRoute(served: readonly string[]): Map<RouteConfig, string[]> {
    const config = this.config();
    const byRoute = new Map<RouteConfig, string[]>();
    for (const model of served) {
      const route = routeForModel(config, model);
      if (route) byRoute.set(route, [...(byRoute.get(route) ?? []), model]);
    }
    return byRoute;
  }

  /**
   * How each of `routes` identifies the caller, its refusals untold (the caller of this
   * decides which, if any, is the answer); a look failing for the gateway's own trouble
   * is the answer at once, told (unansweredLook).
   */
  private async looksAt(
    routes: readonly RouteConfig[],
    headers: IncomingHeaders,
  ): Promise<RouteLook[]> {
    const looks = await lookAcrossRoutes(routes, (route) =>
      this.identifier.identifyWithoutTelling(headers, route),
    );
    const unanswered = unansweredLook(looks);
    if (unanswered) this.identifier.refuse(unanswered.refusal);
    return looks;
  }

  /**
   * The request with `security.promptValidation.redact` applied to its body, reported to
   * `report` when anything was masked. Apart from `prepare` because the Responses API
   * completes the body from stored turns after it; the edge calls this once the body is
   * whole and before the cache, deduplication, budgets or the router read it. A match of
   * a `block` detector refuses the request (PromptBlocked), as blockPatterns do.
   */
  redact(request: GatewayRequest, report: RedactionReport): GatewayRequest {
    const route = this.routeFor(request.requestedModel);
    if (!route?.redactor) return request;
    const tally: RedactionTally = new Map();
    const body = redactBody(request.operation, request.body, route.redactor, tally);
    if (tally.size > 0) report(route.route.name, tally);
    return body === request.body ? request : { ...request, body };
  }

  /**
   * Refuses (a 400 naming `security.mediaUrls`) a request whose prompt names an image or
   * file URL its route does not let a backend fetch. The edge calls this once the body is
   * whole (a Responses call's stored turns added), before any backend is called.
   * `exactParams`: the body is the client's own (chat completions), so the 400 names the part.
   */
  checkMediaUrls(request: GatewayRequest, exactParams: boolean): void {
    const route = this.routeFor(request.requestedModel);
    if (route?.mediaUrls) this.refuseMedia(route, request.body, exactParams);
  }

  private refuseMedia(route: CompiledRoute, body: JsonObject, exactParams: boolean): void {
    refuseMediaUrls(body, route.mediaUrls!, exactParams, (part) =>
      this.reports.mediaUrlRefused?.(route.route.name, part),
    );
  }

  /**
   * A request body the router never sees (a line of a batch input file) under the prompt
   * rules a single call to `model` gets, with the same code: an embeddings input's shape
   * (the rules read only those), blockPatterns, then redaction, masked matches added to
   * `tally`. Throws PromptBlocked naming the rule; the body as it came when nothing was
   * masked. `report`, when given, hears the route's name and `tally` once it holds matches
   * (a Realtime event's text, counted as a chat prompt's masking is).
   */
  screenPrompt(
    model: string,
    operation: Operation,
    body: JsonObject,
    tally: RedactionTally,
    report?: RedactionReport,
  ): JsonObject {
    const route = this.routeFor(model);
    if (!route) return body;
    // A batch line or a Realtime event passed no buildGatewayRequest: its calls' arguments,
    // which masking parses and walks, are held to the same depth here.
    if (operation === 'chat') refuseTooDeepToolArguments(body.messages);
    checkTextShapes(operation, body);
    // A batch line's params are the client's own, but a Responses or Messages line reaches
    // here translated, so its part is named by the line alone.
    if (route.mediaUrls) this.refuseMedia(route, body, false);
    if (route.checksPrompts) route.guard.checkBody(operation, body);
    if (route.tokenIdRules) checkTokenIdPrompts(route.route, model, body, route.tokenIdRules);
    if (!route.redactor) return body;
    const masked = redactBody(operation, body, route.redactor, tally);
    if (report && tally.size > 0) report(route.route.name, tally);
    return masked;
  }

  /**
   * The route of `model` screens what passes (blockPatterns, `redact`, or
   * `responseValidation`): a path that would carry text past those checks must not open.
   */
  screensText(model: string): boolean {
    const route = this.routeFor(model);
    return route !== undefined && (route.checksPrompts || !!route.redactor || !!route.answerGuard);
  }

  /**
   * The route of `model` checks answers (`responseValidation`): a path whose answers no
   * answer rule reads (a Realtime session's events) must not open.
   */
  checksAnswers(model: string): boolean {
    return this.routeFor(model)?.answerGuard !== undefined;
  }

  /**
   * The router's answer, checked by the route's `security.responseValidation` when it has
   * one and `report` is given (see AnswerGuard); otherwise the router's promise as it is.
   */
  handle(
    request: GatewayRequest,
    signal: AbortSignal,
    report?: RouteAnswerReport,
  ): Promise<GatewayAnswer> {
    const answered = this.router.route(request, signal);
    if (!report) return answered;
    const checked = this.answerCheckFor(request);
    return checked
      ? answered.then((answer) =>
          checked.guard.check(answer, request.operation, report(checked.route)),
        )
      : answered;
  }

  /**
   * A reused answer (a cache hit) checked as a fresh one is: it may have been stored before
   * the route checked answers. Placeholders match no detector, so a checked one is unchanged.
   */
  checkAnswer(
    request: GatewayRequest,
    answer: GatewayAnswer,
    report: RouteAnswerReport,
  ): GatewayAnswer {
    const checked = this.answerCheckFor(request);
    return checked ? checked.guard.check(answer, request.operation, report(checked.route)) : answer;
  }

  /** The route's answer guard; found with no look-up when no route checks answers. */
  private answerCheckFor(
    request: GatewayRequest,
  ): { readonly guard: AnswerGuard; readonly route: string } | undefined {
    this.refresh(this.config());
    if (!this.answersChecked || !AnswerGuard.checks(request.operation)) return undefined;
    const route = this.routeFor(request.requestedModel);
    return route?.answerGuard && { guard: route.answerGuard, route: route.route.name };
  }

  /** The payload logging of the route serving the request; undefined when it logs none. */
  payloadLoggingFor(request: GatewayRequest): RoutePayloadLogging | undefined {
    this.refresh(this.config());
    if (!this.payloadsLogged) return undefined;
    return this.routeFor(request.requestedModel)?.payloadLogging;
  }

  /** Whether a route serves `model` (as the router plans a call's backends). */
  servesModel(model: string): boolean {
    return this.routeFor(model) !== undefined;
  }

  /**
   * The upstream models that may serve `request` (its backends', then its cheaper
   * fallbacks'), as budget admission reckons them; none when no route serves it.
   */
  servingModelsOf(request: GatewayRequest): readonly string[] {
    const route = this.routeFor(request.requestedModel)?.route;
    return route ? servingModels(route, request.requestedModel, request.allowedModels) : [];
  }

  listModels(): readonly string[] {
    return this.router.listModels();
  }

  /** What `usage` costs in dollars under the pricing in force, if the model has a price. */
  dollarsFor(servedBy: ServedBy, usage: TokenUsage): number | undefined {
    return pricedDollars(this.config(), servedBy, usage);
  }

  private refresh(config: GatewayConfig): void {
    if (this.compiledFor === config) return;
    this.compiled = new Map();
    this.compiledFor = config;
    this.answersChecked = config.routes.some((r) => r.security.responseValidation);
    this.payloadsLogged = config.routes.some((r) => r.payloadLogging);
  }

  private routeFor(model: string): CompiledRoute | undefined {
    const config = this.config();
    this.refresh(config);
    const route = routeForModel(config, model);
    if (!route) return undefined;
    let compiled = this.compiled.get(route);
    if (!compiled) {
      const guard = new PromptGuard(
        route.security.promptValidation.enabled,
        route.security.promptValidation.blockPatterns,
      );
      const checksPrompts =
        route.security.promptValidation.enabled &&
        route.security.promptValidation.blockPatterns.length > 0;
      const redactor = route.security.promptValidation.redact
        ? new Redactor(route.security.promptValidation.redact)
        : undefined;
      compiled = {
        route,
        guard,
        checksPrompts,
        redactor,
        tokenIdRules:
          checksPrompts || redactor
            ? { ...(checksPrompts ? { guard } : {}), ...(redactor ? { redactor } : {}) }
            : undefined,
        answerGuard: route.security.responseValidation
          ? new AnswerGuard(route.security.responseValidation)
          : undefined,
        stripHeaders: route.security.stripHeaders,
        payloadLogging: route.payloadLogging && { ...route.payloadLogging, route: route.name },
        mediaUrls: route.security.mediaUrls,
      };
      this.compiled.set(route, compiled);
    }
    return compiled;
  }
}

/** Identity is settled (authentication first); now the prompt rules, then the request. */
function admit(
  operation: Operation,
  provisional: GatewayRequest,
  route: CompiledRoute,
  identity: CallerIdentity,
  trace: TraceHeaders | undefined,
): GatewayRequest {
  // Every operation's text, embeddings input included: it leaves the building as a chat does.
  if (route.checksPrompts) route.guard.checkBody(operation, provisional.body);
  if (route.tokenIdRules) {
    checkTokenIdPrompts(
      route.route,
      provisional.requestedModel,
      provisional.body,
      route.tokenIdRules,
    );
  }
  // Identity headers the gateway set from a verified token are for its own policies: a
  // user's id (often an email) must not reach a third party.
  const forwarded = forwardableHeaders(
    identity.headers,
    route.stripHeaders,
    identity.gatewayHeaders,
  );
  // Never forwarded (x-ai-gateway-*): the router reads them from here.
  const overrides = requestOverrides(identity.headers);
  const admitted: GatewayRequest = {
    ...provisional,
    caller: identity.caller,
    allowedModels: identity.allowedModels,
    forwardHeaders: withTraceHeaders(forwarded, trace, route.stripHeaders),
    overrides,
  };
  // Apart from the forwarded headers, so the router's spans join the trace on a route
  // that keeps `traceparent` from the provider.
  return trace ? { ...admitted, traceContext: trace } : admitted;
}
