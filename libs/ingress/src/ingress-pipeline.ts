import type { GatewayConfig, RouteConfig } from '@aigw/config';
import {
  promptText,
  type GatewayAnswer,
  type GatewayRequest,
  type Operation,
  type RouterPort,
} from '@aigw/contracts/data-plane';
import { forwardableHeaders } from './domain/header-policy';
import { PromptGuard } from './domain/prompt-guard';
import { buildGatewayRequest } from './domain/request-builder';

type IncomingHeaders = Readonly<Record<string, string | string[] | undefined>>;

const ANONYMOUS = 'anonymous';

/** Per-configuration state that is costly to rebuild per request (compiled patterns). */
interface CompiledRoute {
  readonly guard: PromptGuard;
  readonly stripHeaders: readonly string[];
  readonly identityHeaders: readonly string[];
}

/**
 * The edge's work for one request, independent of the HTTP framework: check the body,
 * identify the caller, sanitize headers, apply prompt rules, and hand it to the router.
 */
export class IngressPipeline {
  private compiledFor?: GatewayConfig;
  private compiled = new Map<RouteConfig, CompiledRoute>();

  constructor(
    private readonly config: () => GatewayConfig,
    private readonly router: RouterPort,
  ) {}

  prepare(
    operation: Operation,
    body: unknown,
    headers: IncomingHeaders,
    requestId: string,
  ): GatewayRequest {
    const provisional = buildGatewayRequest(operation, body, {
      requestId,
      caller: { userKey: ANONYMOUS },
      allowedModels: [],
      forwardHeaders: {},
    });
    const route = this.routeFor(provisional.requestedModel);
    if (!route) return provisional; // the router answers "model not found"
    if (operation !== 'embeddings') route.guard.check(promptText(provisional.body));
    return {
      ...provisional,
      caller: { userKey: userKey(headers, route.identityHeaders) },
      forwardHeaders: forwardableHeaders(headers, route.stripHeaders),
    };
  }

  handle(request: GatewayRequest, signal: AbortSignal): Promise<GatewayAnswer> {
    return this.router.route(request, signal);
  }

  listModels(): readonly string[] {
    return this.router.listModels();
  }

  private routeFor(model: string): CompiledRoute | undefined {
    const config = this.config();
    if (this.compiledFor !== config) {
      this.compiled = new Map();
      this.compiledFor = config;
    }
    const route =
      config.routes.find((r) => r.backends.some((b) => b.virtualModel === model)) ??
      config.routes.find((r) => r.backends.some((b) => b.virtualModel === undefined));
    if (!route) return undefined;
    let compiled = this.compiled.get(route);
    if (!compiled) {
      compiled = {
        guard: new PromptGuard(
          route.security.promptValidation.enabled,
          route.security.promptValidation.blockPatterns,
        ),
        stripHeaders: route.security.stripHeaders,
        identityHeaders: route.userIdentification.sources.flatMap((source) =>
          source.kind === 'header' ? [source.header.toLowerCase()] : [],
        ),
      };
      this.compiled.set(route, compiled);
    }
    return compiled;
  }
}

function userKey(headers: IncomingHeaders, identityHeaders: readonly string[]): string {
  for (const name of identityHeaders) {
    const value = headers[name];
    const first = Array.isArray(value) ? value[0] : value;
    if (first) return first;
  }
  return ANONYMOUS;
}
