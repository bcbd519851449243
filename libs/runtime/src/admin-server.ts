import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { checkAdminAccess, type AdminAccess, type AdminAccessVerdict } from './admin-access';
import { listenOrExplain } from './listen';
import type { Readiness } from './readiness';

/** What the admin listener reports; each service supplies its own. */
export interface AdminSources {
  /** Prometheus text exposition of this process's metrics. */
  metrics(): Promise<string>;
  metricsContentType: string;
  /** Ready to take traffic: this pod's own checks pass (shared dependencies only reported). */
  ready(): Promise<Pick<Readiness, 'ready' | 'checks'> & Partial<Readiness>>;
  /** Operator actions a service adds (budget resets, say), tried before the 404. */
  routes?: readonly AdminRoute[];
  /** Who may call them (AI_GATEWAY_ADMIN_TOKEN); default: this host only. */
  access?: AdminAccess;
  /** Told of each refused call to an operator route, for the log. */
  onRefused?: (refusal: AdminRefusal) => void;
  /** Told of a request this port could not answer (a route that threw), for the log. */
  onFailed?: (failure: AdminFailure) => void;
}

/** A request the admin port answered with a 500: where, and what was thrown. */
export interface AdminFailure {
  readonly path: string;
  readonly error: unknown;
}

/** A call to an operator route that was refused, as the log tells it (no credentials). */
export interface AdminRefusal {
  readonly path: string;
  readonly reason: Extract<AdminAccessVerdict, { allowed: false }>['reason'];
  readonly remoteAddress?: string;
}

/** A request to an operator action: the path's captures (URI-decoded) and the JSON body. */
export interface AdminRequest {
  readonly params: readonly string[];
  /** The parsed JSON body; `{}` when there is none. */
  readonly body: unknown;
  /** The request's headers, as Node parsed them (lower-case names). */
  readonly headers: IncomingHttpHeaders;
}

export interface AdminReply {
  readonly status: number;
  readonly body: unknown;
}

/** An operator route's 400: every problem found, in one message and one by one. */
export function invalidAdminRequest(issues: readonly { readonly message: string }[]): AdminReply {
  const message = issues.map((issue) => issue.message).join('; ');
  return { status: 400, body: { error: { type: 'invalid_request', message, issues } } };
}

/** An operator route's 404: what it acts on does not exist. */
export function adminNotFound(message: string): AdminReply {
  return { status: 404, body: { error: { type: 'not_found', message } } };
}

/** An operator action on the admin port: a method and a path pattern. */
export interface AdminRoute {
  readonly method: 'GET' | 'POST';
  /** Matched against the whole path; capture groups become `params`. */
  readonly path: RegExp;
  handle(request: AdminRequest): Promise<AdminReply>;
}

/** Operator actions take small JSON bodies; more is a mistake or abuse. */
export const MAX_ADMIN_BODY_BYTES = 16 * 1024;

/**
 * The operator's port, apart from client traffic: liveness, readiness and metrics
 * (`/stats/prometheus` is the path the spec's ServiceMonitor scrapes).
 */
export class AdminServer {
  private readonly server: Server;

  constructor(private readonly sources: AdminSources) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        const path = (request.url ?? '/').split('?')[0];
        this.sources.onFailed?.({ path, error });
        // The cause goes to the log only: it may name internals the caller need not see.
        if (response.headersSent) return void response.end();
        json(response, 500, {
          error: {
            type: 'internal_error',
            message: `${path} failed; the service log has the cause`,
          },
        });
      });
    });
  }

  listen(port: number, host = '0.0.0.0'): Promise<number> {
    return listenOrExplain(this.server, port, host, 'ADMIN_PORT');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    switch (path) {
      case '/healthz':
        return json(response, 200, { status: 'ok' });
      case '/readyz': {
        const readiness = await this.sources.ready();
        return json(response, readiness.ready ? 200 : 503, {
          status: readiness.ready ? 'ready' : 'not ready',
          checks: readiness.checks,
          notGating: readiness.notGating ?? [],
          failing: readiness.failing ?? [],
        });
      }
      case '/metrics':
      case '/stats/prometheus': {
        const body = await this.sources.metrics();
        response.writeHead(200, { 'content-type': this.sources.metricsContentType });
        response.end(body);
        return;
      }
      default:
        return this.route(path, request, response);
    }
  }

  private async route(
    path: string,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    for (const route of this.sources.routes ?? []) {
      const match = route.path.exec(path);
      if (!match) continue;
      const verdict = checkAdminAccess(this.sources.access ?? { kind: 'loopback' }, request);
      if (!verdict.allowed) {
        this.sources.onRefused?.({
          path,
          reason: verdict.reason,
          remoteAddress: request.socket.remoteAddress,
        });
        if (verdict.status === 401) response.setHeader('www-authenticate', 'Bearer');
        // A missing or wrong token is the API's 401 (authentication_error); a caller the
        // port never serves (a browser, another host without a token) is forbidden.
        const type = verdict.status === 401 ? 'authentication_error' : 'forbidden';
        return json(response, verdict.status, invalid(type, verdict.message));
      }
      if (request.method !== route.method) {
        response.setHeader('allow', route.method);
        return json(response, 405, invalid('method_not_allowed', `use ${route.method} ${path}`));
      }
      let params: string[];
      try {
        params = match.slice(1).map((param) => decodeURIComponent(param));
      } catch {
        return json(
          response,
          400,
          invalid('invalid_request', 'the path is not valid URI encoding'),
        );
      }
      const body = await readJson(request);
      if (!body.ok) return json(response, body.status, invalid('invalid_request', body.message));
      const reply = await route.handle({ params, body: body.value, headers: request.headers });
      return json(response, reply.status, reply.body);
    }
    return json(response, 404, { error: 'not found' });
  }
}

/** The error shape of operator actions (the analytics API's): a 400 lists its issues. */
function invalid(
  type: string,
  message: string,
): { error: { type: string; message: string; issues?: { path: string; message: string }[] } } {
  return {
    error: {
      type,
      message,
      ...(type === 'invalid_request' ? { issues: [{ path: '', message }] } : {}),
    },
  };
}

type BodyResult = { ok: true; value: unknown } | { ok: false; status: number; message: string };

async function readJson(request: IncomingMessage): Promise<BodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ADMIN_BODY_BYTES) {
      return { ok: false, status: 413, message: `the body exceeds ${MAX_ADMIN_BODY_BYTES} bytes` };
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, status: 400, message: 'the body is not JSON' };
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
