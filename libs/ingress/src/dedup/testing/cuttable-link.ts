import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * For the deduplication outage specs: a TCP relay between one replica's clients and the
 * real Redis, whose line the test cuts (every connection dropped, new ones refused) and
 * restores. The replica loses Redis the way a network failure takes it away, while the
 * other replica's connections stay up.
 */
export class CuttableLink {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private cutOff = false;
  /** Replies Redis sent while they are held: Redis runs the commands, the client hears nothing. */
  private held?: [Socket, Buffer][];
  /** The URL of Redis through the link. */
  url = '';

  private constructor(private readonly target: URL) {
    this.server = createServer((client) => this.relay(client));
  }

  static async open(redisUrl: string): Promise<CuttableLink> {
    const link = new CuttableLink(new URL(redisUrl));
    await new Promise<void>((resolve) => link.server.listen(0, '127.0.0.1', resolve));
    const url = new URL(redisUrl);
    url.hostname = '127.0.0.1';
    url.port = String((link.server.address() as AddressInfo).port);
    link.url = url.toString();
    return link;
  }

  /** Drops every connection through the link; new ones are closed as they come. */
  cut(): void {
    this.cutOff = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  restore(): void {
    this.cutOff = false;
  }

  /** Redis seems silent from now on (as one stalled), though it runs what it is sent. */
  holdReplies(): void {
    this.held ??= [];
  }

  /** Hands over the replies held, in order, and lets the next ones through. */
  releaseReplies(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const [client, data] of held) client.write(data);
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket): void {
    if (this.cutOff) {
      client.destroy();
      return;
    }
    const upstream = createConnection({
      host: this.target.hostname,
      port: Number(this.target.port),
    });
    client.pipe(upstream);
    upstream.on('data', (data: Buffer) => {
      if (this.held) this.held.push([client, data]);
      else client.write(data);
    });
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(from);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
    }
  }
}
