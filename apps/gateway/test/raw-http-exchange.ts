// One HTTP/1.1 request written byte for byte on a fresh connection: for what no client
// library sends as asked (a header line twice, an `Upgrade` offer, a bodiless JSON call).
import { connect } from 'node:net';

export interface RawAnswer {
  readonly status: number;
  /** The head as it came (status line and header lines). */
  readonly head: string;
  readonly body: string;
}

/**
 * Writes `request` on a fresh connection and reads one answer: until its Content-Length is
 * in, or until the server closes the connection (15 s at most).
 */
export function rawExchange(port: number, request: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let received = Buffer.alloc(0);
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no whole answer came; read so far: ${received.toString('utf8')}`));
    }, 15_000);
    const done = () => {
      clearTimeout(guard);
      socket.destroy();
      resolve(answerOf(received));
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd === -1) return;
      const length = /\r\ncontent-length: (\d+)\r\n/i.exec(
        received.subarray(0, headEnd + 2).toString('latin1'),
      );
      if (length && received.length - headEnd - 4 >= Number(length[1])) done();
    });
    socket.on('error', () => undefined);
    socket.on('close', done);
  });
}

function answerOf(received: Buffer): RawAnswer {
  const text = received.toString('utf8');
  const headEnd = text.indexOf('\r\n\r\n');
  const head = headEnd === -1 ? text : text.slice(0, headEnd);
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]),
    head,
    body: headEnd === -1 ? '' : text.slice(headEnd + 4),
  };
}
