import type { IncomingMessage } from 'node:http';

/** The scheme and authority (userinfo included) of an absolute-form request target. */
const SCHEME_AND_AUTHORITY = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i;

/**
 * The request's target in origin form, Fastify's `rewriteUrl` for the edge: RFC 9112
 * §3.2.2 has a server accept `POST http://host/v1/messages` (a client that takes the
 * gateway for its HTTP proxy sends it so), which Fastify routes by its path but leaves
 * whole in `request.url`, where the error shape, the 405's `Allow`, the metric's route and
 * error messages read it (and its userinfo, a password, would be echoed). A target that is
 * already a path, or `*`, is kept as it came.
 */
export function originFormTarget(request: IncomingMessage): string {
  const target = request.url ?? '/';
  if (target.charCodeAt(0) === SLASH) return target;
  const absolute = SCHEME_AND_AUTHORITY.exec(target);
  if (absolute === null) return target;
  const rest = target.slice(absolute[0].length);
  return rest.charCodeAt(0) === SLASH ? rest : `/${rest}`;
}

const SLASH = 0x2f;
