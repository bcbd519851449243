import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import type { EdgeDialect } from '../http/edge-exchange';
import {
  toGeminiBatchEmbedResponse,
  toGeminiEmbedResponse,
  translateGeminiBatchEmbedRequest,
  translateGeminiEmbedRequest,
} from './domain/gemini-embeddings';
import { geminiCallerHeaders } from './gemini-dialect';
import { sendGeminiError } from './gemini-errors';
import { reportUnapplied } from './gemini-unapplied';

/**
 * Gemini's embedContent (one content) or batchEmbedContents (a list of requests) as the
 * canonical embeddings operation, served as `/v1/embeddings` is; the answer goes back as
 * Gemini's ContentEmbedding objects. One per call: the model comes from the URL.
 */
export function geminiEmbedDialect(call: {
  readonly model: string;
  readonly batch: boolean;
}): EdgeDialect {
  let inputs = 1;
  let dimensions: number | undefined;
  return {
    canonicalBody: (body) => {
      const canonical = call.batch
        ? translateGeminiBatchEmbedRequest(body, call.model)
        : translateGeminiEmbedRequest(body, call.model);
      if (call.batch) inputs = (canonical.input as unknown[]).length;
      // What a base64 vector of the answer must decode to (see toGeminiEmbedResponse).
      dimensions = canonical.dimensions as number | undefined;
      return canonical;
    },
    answerBody: (answer) => {
      reportUnapplied(answer.servedBy);
      return call.batch
        ? toGeminiBatchEmbedResponse(answer.body, inputs, answer.usage, dimensions)
        : toGeminiEmbedResponse(answer.body, answer.usage, dimensions);
    },
    // Embeddings are never streamed (the request builder sets no stream for them).
    openStream: () => {
      throw new DataPlaneError(DataPlaneErrorCode.Internal, 'embeddings are not streamed');
    },
    sendError: sendGeminiError,
    callerHeaders: geminiCallerHeaders,
  };
}
