import type { FastifyError, FastifyReply } from 'fastify';
import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { sendErrorReply, type ErrorShape } from './error-reply';

/** Turns anything thrown on the edge into the error the OpenAI API would have sent. */
export function toDataPlaneError(error: unknown): DataPlaneError {
  if (error instanceof DataPlaneError) return error;
  const fastifyError = error as Partial<FastifyError> & { status?: number };
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new DataPlaneError(
        DataPlaneErrorCode.BodyTooLarge,
        'The request body is larger than this gateway accepts',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        "Send the request body as JSON with 'Content-Type: application/json'",
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, 'The request body is empty');
    // The router's refusals (before any route): Fastify's messages quote the URL.
    case 'FST_ERR_BAD_URL':
      return new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        'The request URL has a malformed %-escape (a % not followed by two hex digits, or bytes that are not UTF-8)',
      );
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new DataPlaneError(
        DataPlaneErrorCode.InvalidRequest,
        'A part of the request URL is longer than this gateway accepts',
      );
    default:
      break;
  }
  // Nest wraps Fastify's parser errors in an HttpException that keeps only the status.
  const status = fastifyError.statusCode ?? fastifyError.status;
  if (error instanceof SyntaxError || status === 400) {
    return new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      'We could not parse the JSON body of your request (check the JSON syntax)',
    );
  }
  if (status === 413) {
    return new DataPlaneError(
      DataPlaneErrorCode.BodyTooLarge,
      'The request body is larger than this gateway accepts',
    );
  }
  if (status === 404) {
    return new DataPlaneError(DataPlaneErrorCode.UnknownUrl, 'Unknown endpoint');
  }
  if (status === 415) {
    return new DataPlaneError(
      DataPlaneErrorCode.InvalidRequest,
      "Send the request body as JSON with 'Content-Type: application/json'",
    );
  }
  if (status === 405) {
    return new DataPlaneError(
      DataPlaneErrorCode.MethodNotAllowed,
      'This method is not allowed here',
    );
  }
  return new DataPlaneError(
    DataPlaneErrorCode.Internal,
    'The gateway failed to handle the request',
    {
      cause: error,
    },
  );
}

const OPENAI_ERRORS: ErrorShape = {
  answer: (error) => ({ status: error.httpStatus, body: error.toOpenAiBody() }),
  streamEvent: (error) => `data: ${JSON.stringify(error.toOpenAiBody())}\n\n`,
};

/** Sends an OpenAI-style error, or ends a stream that already started with an error event. */
export function sendOpenAiError(
  reply: FastifyReply,
  error: DataPlaneError,
  requestId?: string,
): void {
  sendErrorReply(reply, error, requestId, OPENAI_ERRORS);
}
