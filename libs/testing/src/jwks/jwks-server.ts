import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';

/**
 * A JSON Web Key Set served over plain HTTP on loopback, standing in for an identity
 * provider's `/.well-known/jwks.json`. Counts fetches so tests can bound refetching.
 */
export class LocalJwksServer {
  /** How many times the key set was requested. */
  fetches = 0;
  private keys: JWK[] = [];
  private failStatus?: number;
  private readonly server: Server;

  constructor() {
    this.server = createServer((request, response) => {
      this.fetches += 1;
      if (this.failStatus !== undefined) {
        response.writeHead(this.failStatus).end();
        return;
      }
      response
        .writeHead(200, { 'content-type': 'application/jwk-set+json' })
        .end(JSON.stringify({ keys: this.keys }));
      request.resume();
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/.well-known/jwks.json`;
  }

  /** Replaces the published keys (a rotation when the new set drops the old key). */
  publish(...keys: JWK[]): this {
    this.keys = keys;
    return this;
  }

  /** Answers every fetch with this status until called with undefined. */
  failWith(status: number | undefined): this {
    this.failStatus = status;
    return this;
  }
}
