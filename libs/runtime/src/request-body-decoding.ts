import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { preParsingHookHandler } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { foreignJsonCharset, utf8Transcoder } from './json-charset';

const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * Reads a JSON body declared in a charset other than UTF-8 (foreignJsonCharset) in that
 * charset, as UTF-8 from then on; one no decoder knows is refused by name.
 * Decodes a request body sent with `Content-Encoding` gzip, deflate or br before it is
 * parsed (clients compress long prompts); any other coding is refused by name. The body
 * limit (the route's, else `maxBodyBytes`) holds for the decoded bytes, counted here as they come out, so a small compressed
 * body that inflates past it is stopped there (a "zip bomb") rather than decoded to the end.
 */
export function requestBodyDecoder(maxBodyBytes: number): preParsingHookHandler {
  return (request, _reply, payload, done) => {
    const charset = foreignJsonCharset(request.headers['content-type']);
    const transcoder = charset === undefined ? undefined : utf8Transcoder(charset);
    if (charset !== undefined && transcoder === undefined) {
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
    // The route's own limit where it has one (file uploads stream past the JSON limit).
    const limit = request.routeOptions.bodyLimit ?? maxBodyBytes;
    if (coding === undefined || coding === '' || coding === 'identity') {
      done(null, transcoder ? decoded(payload, [transcoder], 'text', limit) : payload);
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
    const steps = transcoder ? [decoder(), transcoder] : [decoder()];
    done(null, decoded(payload, steps, coding, limit));
  };
}

/**
 * The body through `steps` (decompression, then transcoding), carrying
 * `receivedEncodedLength` (Fastify checks it against Content-Length).
 */
function decoded(
  payload: Readable,
  steps: readonly Transform[],
  coding: string,
  limit: number,
): Readable {
  const body = new DecodedBody(limit);
  payload.on('data', (chunk: Buffer) => (body.receivedEncodedLength += chunk.length));
  for (const step of steps) {
    step.on('error', () =>
      body.destroy(
        new DataPlaneError(
          DataPlaneErrorCode.InvalidRequest,
          `The request body is not valid ${coding} data`,
        ),
      ),
    );
  }
  // Stop inflating once the body was refused or the client left.
  body.on('close', () => {
    payload.unpipe(steps[0]);
    for (const step of steps) step.destroy();
  });
  payload.on('aborted', () => body.destroy());
  let stream: Readable = payload;
  for (const step of steps) stream = stream.pipe(step);
  stream.pipe(body);
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
