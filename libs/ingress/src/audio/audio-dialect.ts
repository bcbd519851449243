import type { FastifyInstance } from 'fastify';
import { GatewayEndpoint } from '@aigw/contracts';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import type { EdgeDialect } from '../http/edge-exchange';
import { OPENAI_DIALECT } from '../http/openai-dialect';
import { sendOpenAiError } from '../http/openai-errors';
import { endpointAt } from '../http/public-paths';
import { audioRequestParts } from './audio-form';
import { parseMultipartForm } from './multipart-form';

/** The endpoints whose requests are forms with a file. */
const FORM_ENDPOINTS: ReadonlySet<GatewayEndpoint> = new Set([
  GatewayEndpoint.AudioTranscriptions,
  GatewayEndpoint.AudioTranslations,
  GatewayEndpoint.ImagesEdits,
]);

/**
 * OpenAI's audio endpoints: a multipart form in (its text fields become the body the
 * data plane carries, its file the request's upload), the backend's answer out as it
 * came: JSON, or text, srt or vtt as the media type the backend gave.
 */
export const AUDIO_DIALECT: EdgeDialect = {
  canonicalBody: (form) => audioRequestParts(form).body,
  withState: (request, form) => ({ ...request, uploads: audioRequestParts(form).uploads }),
  answerBody: (answer) => (answer.mediaType === undefined ? answer.body : answer.body.text),
  // Never opened: audio requests are refused a stream (see audioRequestParts).
  openStream: (response, headers, request, clientBody) =>
    OPENAI_DIALECT.openStream(response, headers, request, clientBody),
  sendError: sendOpenAiError,
};

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
      if (endpoint === undefined || !FORM_ENDPOINTS.has(endpoint)) {
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
