import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { preParsingHookHandler } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { foreignJsonCharset } from './json-charset';

const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * Refuses a JSON body declared in a charset other than UTF-8 (foreignJsonCharset), by name.
 * Decodes a request body sent with `Content-Encoding` gzip, deflate or br before it is
 * parsed (clients compress long prompts); any other coding is refused by name. The body
 * limit (the route's, else `maxBodyBytes`) holds for the decoded bytes, counted here as they come out, so a small compressed
 * body that inflates past it is stopped there (a "zip bomb") rather than decoded to the end.
 */
export function requestBodyDecoder(maxBodyBytes: number): preParsingHookHandler {
  return (request, _reply, payload, done) => {
    const charset = foreignJsonCharset(request.headers['content-type']);
    if (charset !== undefined) {
      done(
        new DataPlaneError(
          DataPlaneErrorCode.InvalidRequest,
          `Content-Type charset '${charset.slice(0, 40)}' is not supported: send JSON as UTF-8`,
        ),
      );
      return;
    }
    const header = request.headers['content-encoding'];
    const coding = header?.trim().toLowerCase();
    if (coding === undefined || coding === '' || coding === 'identity') {
      done(null, payload);
      return;
    }
    const decoder = DECODERS[coding];
    if (!decoder) {
      done(
        new DataPlaneError(
          DataPlaneErrorCode.InvalidRequest,
          `Content-Encoding '${header!.slice(0, 40)}' is not supported: send the body uncompressed, or as gzip, deflate or br`,
        ),
      );
      return;
    }
    // The route's own limit where it has one (file uploads stream past the JSON limit).
    const limit = request.routeOptions.bodyLimit ?? maxBodyBytes;
    done(null, decoded(payload, decoder(), coding, limit));
  };
}

/** The decoded body, carrying `receivedEncodedLength` (Fastify checks it against Content-Length). */
function decoded(
  payload: Readable,
  decompress: Transform,
  coding: string,
  limit: number,
): Readable {
  const body = new DecodedBody(limit);
  payload.on('data', (chunk: Buffer) => (body.receivedEncodedLength += chunk.length));
  decompress.on('error', () =>
    body.destroy(
      new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        `The request body is not valid ${coding} data`,
      ),
    ),
  );
  // Stop inflating once the body was refused or the client left.
  body.on('close', () => {
    payload.unpipe(decompress);
    decompress.destroy();
  });
  payload.on('aborted', () => body.destroy());
  payload.pipe(decompress).pipe(body);
  return body;
}

class DecodedBody extends Transform {
  receivedEncodedLength = 0;
  private decodedBytes = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.decodedBytes += chunk.length;
    if (this.decodedBytes > this.limit) {
      callback(
        new DataPlaneError(
          DataPlaneErrorCode.BodyTooLarge,
          'The request body is larger than this gateway accepts',
        ),
      );
      return;
    }
    callback(null, chunk);
  }
}
