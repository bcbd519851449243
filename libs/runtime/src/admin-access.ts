import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { StartupError } from './listen';
import { matchesSecretDigest, secretDigest } from './secret-digest';

/** Who may call the admin port's operator routes (budget resets, say). */
export type AdminAccess =
  /** Callers showing `Authorization: Bearer <token>`, from anywhere. */
  | { readonly kind: 'token'; readonly digest: Buffer }
  /** No token set: callers on this host only (a shell, a `kubectl port-forward`). */
  | { readonly kind: 'loopback' };

export type AdminAccessVerdict =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      readonly status: 401 | 403;
      readonly reason: 'browser' | 'token' | 'remote';
      readonly message: string;
    };

/** Shorter tokens are guessable; a generated one (`openssl rand -hex 32`) is 64. */
const MIN_TOKEN_LENGTH = 16;

/** AI_GATEWAY_ADMIN_TOKEN, as the admin port checks it; the token itself is kept only hashed. */
export function adminAccessFrom(env: Readonly<Record<string, string | undefined>>): AdminAccess {
  const token = env.AI_GATEWAY_ADMIN_TOKEN?.trim();
  if (!token) return { kind: 'loopback' };
  if (token.length < MIN_TOKEN_LENGTH) {
    // Says how long it is, never what it is.
    throw new StartupError(
      `AI_GATEWAY_ADMIN_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters (it has ${token.length})`,
    );
  }
  return { kind: 'token', digest: secretDigest(token) };
}

/**
 * Whether a request may run an operator route. Health, readiness and metrics are not
 * operator routes and are always served.
 * - A request a browser sent (it carries `Origin`) is refused whatever else it shows: a web
 *   page open on an operator's machine must not be able to reset budgets on localhost.
 * - With a token set, the request must bear it; compared in constant time.
 * - Without one, only this host may call, so an admin port that a scraper or the pod
 *   network can reach does not hand budgets to whoever reaches it. A request a proxy
 *   relayed (it names a client in a forwarding header) is not this host's, whatever the
 *   socket's address.
 */
export function checkAdminAccess(
  access: AdminAccess,
  request: IncomingMessage,
): AdminAccessVerdict {
  if (request.headers.origin !== undefined) {
    return refuse(403, 'browser', 'operator routes do not answer browser requests');
  }
  if (access.kind === 'token') {
    const presented = bearerToken(request.headers.authorization);
    if (presented !== undefined && matchesSecretDigest(presented, access.digest)) {
      return { allowed: true };
    }
    return refuse(401, 'token', 'send Authorization: Bearer <AI_GATEWAY_ADMIN_TOKEN>');
  }
  if (isThisHostCaller(request)) return { allowed: true };
  return refuse(
    403,
    'remote',
    'operator routes answer only this host unless AI_GATEWAY_ADMIN_TOKEN is set',
  );
}

/**
 * A caller on this host itself (a shell, a `kubectl port-forward`): not one a proxy relayed,
 * a web page whose DNS name was re-pointed at 127.0.0.1, or another site's page. What
 * operator surfaces without a token of their own answer.
 */
export function isThisHostCaller(request: IncomingMessage): boolean {
  return (
    isLoopback(request.socket.remoteAddress) &&
    !relayedByProxy(request) &&
    hostCannotBeRebound(request.headers.host) &&
    notAnotherSite(request.headers.origin, request.headers.host)
  );
}

function refuse(
  status: 401 | 403,
  reason: 'browser' | 'token' | 'remote',
  message: string,
): AdminAccessVerdict {
  return { allowed: false, status, reason, message };
}

/** The token of an `Authorization: Bearer` header, the scheme in any case (RFC 9110). */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * 127.0.0.1 and ::1 only, not all of 127/8: an Istio sidecar hands the app every inbound
 * connection from 127.0.0.6, so that address stands for any pod in the mesh.
 */
function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

/**
 * Headers a proxy adds to name the client it relays (a reverse proxy on this host, a sidecar
 * speaking HTTP). A shell or a `kubectl port-forward` sends none; a caller behind a proxy
 * cannot remove them, so their presence means the loopback peer is not the real caller.
 */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip', 'x-envoy-external-address'];

function relayedByProxy(request: IncomingMessage): boolean {
  return PROXY_HEADERS.some((name) => request.headers[name] !== undefined);
}

/**
 * No `Origin`, or this host's own page's (the usage page fetching the analytics API).
 * Another site's page on an operator's machine reaches localhost too, and with
 * AI_GATEWAY_CORS_ORIGINS set it could read the answer.
 */
function notAnotherSite(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (host === undefined) return false;
  try {
    const page = new URL(origin);
    return page.host === new URL(`${page.protocol}//${host}`).host;
  } catch {
    return false; // `null` (a sandboxed page, a file) or malformed
  }
}

/**
 * `localhost` or an IP address (or no Host at all). A browser sends no `Origin` on a
 * same-origin GET, so a page whose DNS name the attacker re-points at 127.0.0.1 (DNS
 * rebinding) reaches a loopback port as "this host"; its Host header still names that page.
 */
function hostCannotBeRebound(host: string | undefined): boolean {
  if (host === undefined) return true;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '');
  return name.toLowerCase() === 'localhost' || isIP(name) !== 0;
}
