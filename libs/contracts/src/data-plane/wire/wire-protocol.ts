// The internal data-plane wire format, version 1: how the request path crosses a process
// boundary when ingress, router and provider-adapter run as separate services.
//
// Requests (POST, `content-type: application/json`, header `x-aigw-wire: 1`):
//   ingress -> router            POST /wire/route   {"request": GatewayRequest}
//   router  -> provider-adapter  POST /wire/invoke  {"request": GatewayRequest,
//                                                    "target": {backendName, provider, model}}
// The target never carries a credential or a base URL: the provider-adapter looks the
// backend up by name in its own configuration and injects the key itself, so no API key
// crosses the internal hop and a router cannot point a key at another host.
//
// Answers (header `x-aigw-wire: 1` on every answer):
//   JSON    200 application/json  {"status", "servedBy", "usage", "body": <OpenAI body>}
//   stream  200 application/x-ndjson, `x-aigw-served-by: <URI-encoded ServedBy JSON>`;
//           the body is one frame per line, the first byte of a line names its kind:
//             c<OpenAI chunk JSON>   a chunk; its `model` is already the requested name
//             u<TokenUsage JSON>     the clean end, with the settled usage
//             e<error JSON>          the stream broke: {"error": {...}, "usage"?: {...}}
//           A body that ends without a `u` or `e` line is a broken stream.
//   error   4xx/5xx application/json  {"error": {message, type, code, param,
//           retryAfterMs?, upstreamStatus?}} where `code` is the internal
//           DataPlaneErrorCode, so `DataPlaneError.fromWire` rebuilds it and failover
//           classification survives the hop.
// A request or answer with another (or no) `x-aigw-wire` version is refused, never
// guessed at: the server answers 400 with an error body naming both versions.

export const WIRE_VERSION = '1';
export const WIRE_VERSION_HEADER = 'x-aigw-wire';
export const SERVED_BY_HEADER = 'x-aigw-served-by';
/**
 * On a stream's `/wire/invoke`: the milliseconds its attempt has left for a first event (the
 * backend's firstByteTimeout, as the router times it). The provider-adapter times the backend
 * against it and answers the silence as the backend's timeout, so it counts what the router
 * does rather than a caller that left. Optional in version 1: an adapter that does not know it
 * ignores it, and a router that sends none leaves the adapter to its own timeouts.
 */
export const FIRST_EVENT_MS_HEADER = 'x-aigw-first-event-ms';

export const WIRE_PATHS = {
  route: '/wire/route',
  invoke: '/wire/invoke',
  health: '/wire/health',
} as const;

export const WIRE_JSON = 'application/json';
export const WIRE_STREAM = 'application/x-ndjson';

/** The first byte of each stream frame line. */
export const FrameTag = {
  Chunk: 0x63, // 'c'
  End: 0x75, // 'u'
  Error: 0x65, // 'e'
} as const;

export type FrameTag = (typeof FrameTag)[keyof typeof FrameTag];
