import { EventEmitter, once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/** A real server response, nothing written yet, the raw client socket it answers, and a way out. */
export interface OpenServerResponse {
  readonly response: ServerResponse;
  readonly client: Socket;
  /** Makes the client hang up and waits until the response has emitted 'close'. */
  readonly hangUp: () => Promise<void>;
  readonly close: () => void;
}

/**
 * Opens one HTTP exchange on loopback and hands over its response, for tests of code that
 * writes to a client: how it handles backpressure (pause `client`) or a client gone.
 */
export async function openServerResponse(): Promise<OpenServerResponse> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const requested = once(server, 'request') as Promise<[unknown, ServerResponse]>;
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  client.write('GET / HTTP/1.1\r\nhost: test\r\n\r\n');
  const [, response] = await requested;
  // Late writes to a gone client report ERR_STREAM_DESTROYED; that is what is under test.
  response.on('error', () => undefined);
  return {
    response,
    client,
    hangUp: async () => {
      const closed = once(response, 'close');
      client.destroy();
      await closed;
    },
    close: () => {
      client.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
}

/**
 * Just enough of a ServerResponse to record what a relay writes, for tests that read the
 * framing rather than a real socket's behaviour (cast it to ServerResponse).
 */
export class RecordingResponse extends EventEmitter {
  status = 0;
  headers: Record<string, string> = {};
  text = '';
  writableEnded = false;
  writeHead(status: number, headers: Record<string, string>): this {
    this.status = status;
    this.headers = headers;
    return this;
  }
  flushHeaders(): void {}
  write(text: string): boolean {
    this.text += text;
    return true;
  }
  end(text = ''): this {
    this.text += text;
    this.writableEnded = true;
    return this;
  }
}
