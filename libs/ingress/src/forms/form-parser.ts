import type { FastifyInstance } from 'fastify';
import { GatewayEndpoint } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { endpointAt, unprefixedPath } from '../http/public-paths';
import { parseMultipartForm } from './multipart-form';

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
 * wrong media type, as it was before forms were read at all.
 */
export function registerFormParser(fastify: FastifyInstance): void {
  fastify.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'buffer' },
    (request, body, done) => {
      const endpoint = endpointAt(request.url);
      // `POST /v1/files` (the Files API) uploads a form too.
      const upload = unprefixedPath(request.url) === '/files';
      if (!upload && (endpoint === undefined || !FORM_ENDPOINTS.has(endpoint))) {
        done(
          new DataPlaneError(
            DataPlaneErrorCode.InvalidRequest,
            "Send the request body as JSON with 'Content-Type: application/json'",
          ),
        );
        return;
      }
      try {
        done(null, parseMultipartForm(body as Buffer, request.headers['content-type']));
      } catch (error) {
        done(error as Error);
      }
    },
  );
}
