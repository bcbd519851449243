import type { FastifyInstance } from 'fastify';

/**
 * Reads an empty body declared `application/json` as no body, as a call without the
 * header is read, and any other JSON with Fastify's own parser (same limits, same errors).
 * The Python SDKs (openai, anthropic) declare JSON on every call and httpx sends
 * `Content-Length: 0` with a POST that has no body: Fastify's parser refused each
 * `batches.cancel`, `responses.cancel` and `messages.batches.cancel` as unparsable JSON.
 * A model call sent so is still refused, by its handler, for the body it lacks.
 */
export function readEmptyJsonAsNoBody(fastify: FastifyInstance): void {
  // The poisoning checks Fastify's own parser applies by default. It answers through `done`.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser(['application/json']);
  fastify.addContentTypeParser<string>(
    'application/json',
    { parseAs: 'string' },
    (request, body, done) => {
      if (body.length === 0) {
        done(null, undefined);
        return;
      }
      void parseJson(request, body, done);
    },
  );
}
