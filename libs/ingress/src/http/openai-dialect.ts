import type { EdgeDialect } from './edge-exchange';
import { sendOpenAiError } from './openai-errors';
import { SseWriter } from './sse-writer';

/** OpenAI's wire format is the canonical one: answers pass through as they are. */
export const OPENAI_DIALECT: EdgeDialect = {
  answerBody: (answer) => answer.body,
  openStream: (response, headers) => {
    const writer = new SseWriter(response);
    writer.start(headers);
    return {
      event: (chunk) => writer.event(chunk),
      end: async () => writer.done(),
      fail: (error) => writer.fail(error),
    };
  },
  sendError: sendOpenAiError,
  costInUsage: true,
};
