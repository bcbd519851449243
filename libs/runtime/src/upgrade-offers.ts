import type { IncomingMessage } from 'node:http';

/**
 * Which requests offering `Upgrade` the edge takes up (Node's `shouldUpgradeCallback`): a
 * WebSocket (Realtime sessions), and only where something listens for upgrades. Any other
 * offer is ignored and the request served as the HTTP/1.1 request it also is (RFC 9110
 * §7.8): `curl --http2` and Java's HttpClient offer `Upgrade: h2c` on every http:// call,
 * and Node's default took each such chat call for an upgrade, answered 404 on any path but
 * /v1/realtime.
 */
export function webSocketUpgradesOnly(
  upgradeListeners: () => number,
): (request: IncomingMessage) => boolean {
  return (request) => offersWebSocket(request.headers.upgrade) && upgradeListeners() > 0;
}

function offersWebSocket(upgrade: string | undefined): boolean {
  if (upgrade === undefined) return false;
  return upgrade.split(',').some((protocol) => /^websocket$/i.test(protocol.trim()));
}
