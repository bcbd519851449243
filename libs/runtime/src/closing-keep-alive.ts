import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Node keeps the response a connection is answering on the socket (its own field). */
type AnsweringSocket = Socket & { _httpMessage?: ServerResponse | null };

/**
 * Lets a closing server end keep-alive on the answers already in flight. Their headers
 * would still say `keep-alive`, so a client sends its next call on the same connection,
 * which the closing app hangs up as soon as the answer ends: a call written in that moment
 * is reset unanswered (a POST no client resends). Told before their headers go, they say
 * `Connection: close` and the client opens a new connection (another replica behind the
 * balancer). A connection that already carries a further call (pipelined during the stop)
 * stays open for it: that call is answered, and its own answer says close (Fastify's).
 * Tracked per connection, not per call: nothing is added to a request before the stop.
 */
export function closingKeepAlive(server: Server): () => void {
  const open = new Set<AnsweringSocket>();
  server.on('connection', (socket: AnsweringSocket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return () => {
    const followed = new WeakSet<Socket>();
    server.on('request', (request: IncomingMessage) => followed.add(request.socket));
    for (const socket of open) {
      const answer = socket._httpMessage;
      // A stream whose headers went already cannot say so; it is hung up once it ends.
      if (!answer || answer.headersSent) continue;
      const writeHead = answer.writeHead.bind(answer) as (...all: unknown[]) => ServerResponse;
      answer.writeHead = (...args: unknown[]) => {
        if (!followed.has(socket)) answer.shouldKeepAlive = false;
        return writeHead(...args);
      };
    }
  };
}

/** How often a closing server hangs up the connections whose answers have ended. */
const IDLE_SWEEP_MS = 100;

/**
 * Stops accepting and waits for the answers in flight, streams included, with `close` (the
 * app's own). Node closes the connections idle when the close starts only: one whose answer
 * ends later would stay open for its keep-alive timeout (72 s in Fastify), and every client
 * keeps its connections alive, so without the sweep a drained server would outlast docker's
 * 10 s stop (into SIGKILL). `endKeepAlive` is `closingKeepAlive`'s: the answers in flight
 * say Connection: close, so no client reuses what the sweep ends.
 */
export async function closeDraining(
  server: Server,
  endKeepAlive: () => void,
  close: () => Promise<unknown>,
): Promise<void> {
  endKeepAlive();
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  try {
    await close();
  } finally {
    clearInterval(sweep);
  }
}
