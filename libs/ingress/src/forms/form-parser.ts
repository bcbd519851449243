import type { Readable } from 'node:stream';
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import { GatewayEndpoint } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { endpointAt, unprefixedPath } from '../http/public-paths';
import { parseMultipartForm } from './multipart-form';
import { FormStream } from './multipart-stream';

/** The endpoints whose requests are forms with a file. */
const FORM_ENDPOINTS: ReadonlySet<GatewayEndpoint> = new Set([
  GatewayEndpoint.AudioTranscriptions,
  GatewayEndpoint.AudioTranslations,
  GatewayEndpoint.ImagesEdits,
  GatewayEndpoint.ImagesVariations,
]);

/**
 * Reads `multipart/form-data` bodies on the endpoints that take forms, whole and within
 * the app's body limit (a larger one is a 413, as for JSON); anywhere else a form is the
 * wrong media type, as it was before forms were read at all. `POST /v1/files` (the Files
 * API, uploads of up to OpenAI's 200 MB) is not read here: its handler reads the form as
 * it arrives (a FormStream), within its route's own limit (AI_GATEWAY_MAX_FILE_BYTES),
 * never holding the file in memory (a file sent before its purpose waits on disk).
 */
export function registerFormParser(fastify: FastifyInstance): void {
  fastify.addContentTypeParser('multipart/form-data', (request, payload, done) => {
    const appLimit = fastify.initialConfig.bodyLimit ?? Infinity;
    // Only the upload route sets its own (larger) limit; every other form keeps the app's.
    const limit = request.routeOptions.bodyLimit ?? appLimit;
    if (Number(request.headers['content-length']) > limit) {
      done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined);
      return;
    }
    const contentType = request.headers['content-type'];
    if (unprefixedPath(request.url) === '/files') {
      done(null, new FormStream(payload, contentType, limit, Math.min(limit, appLimit)));
      return;
    }
    // Read whole before any refusal, as Fastify read it: the client is not cut off mid-body.
    readWhole(request, payload, limit).then(
      (body) => {
        const endpoint = endpointAt(request.url);
        if (endpoint === undefined || !FORM_ENDPOINTS.has(endpoint)) {
          done(
            new DataPlaneError(
              DataPlaneErrorCode.InvalidRequest,
              "Send the request body as JSON with 'Content-Type: application/json'",
            ),
            undefined,
          );
          return;
        }
        try {
          done(null, parseMultipartForm(body, contentType));
        } catch (error) {
          done(error as Error, undefined);
        }
      },
      (error: Error) => done(error, undefined),
    );
  });
}

/**
 * The whole body, as Fastify reads one for `parseAs: 'buffer'`: within `limit` (counting
 * a decoded body's encoded bytes too), and as long as its Content-Length says.
 */
function readWhole(request: FastifyRequest, payload: Readable, limit: number): Promise<Buffer> {
  const contentLength = Number(request.headers['content-length']);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const stop = () => {
      payload.off('data', onData);
      payload.off('end', onEnd);
      payload.off('error', onError);
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      received += bytes.length;
      const encoded = (payload as { receivedEncodedLength?: number }).receivedEncodedLength ?? 0;
      if (received > limit || encoded > limit) {
        stop();
        reject(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = () => {
      stop();
      const encoded = (payload as { receivedEncodedLength?: number }).receivedEncodedLength;
      if (!Number.isNaN(contentLength) && (encoded || received) !== contentLength) {
        reject(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
        return;
      }
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error & { statusCode?: number }) => {
      stop();
      if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) {
        error.statusCode = 400;
      }
      reject(error);
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.resume();
  });
}
