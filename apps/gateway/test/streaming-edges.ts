// The four streaming edges the stream-cut specs send one request to, each in its own API.
import type { Format } from './fuzz/bad-requests';

export interface StreamingEdge {
  name: string;
  format: Format;
  path: string;
  body: object;
}

const USER_TURN = [{ role: 'user', content: 'hi' }];

/** A streaming request for `model` on each edge: chat completions, messages, responses, gemini. */
export function streamingEdges(model: string): StreamingEdge[] {
  return [
    {
      name: 'chat completions',
      format: 'openai',
      path: '/v1/chat/completions',
      body: { model, stream: true, messages: USER_TURN },
    },
    {
      name: 'messages',
      format: 'anthropic',
      path: '/v1/messages',
      body: { model, stream: true, max_tokens: 50, messages: USER_TURN },
    },
    {
      name: 'responses',
      format: 'openai',
      path: '/v1/responses',
      body: { model, stream: true, input: 'hi' },
    },
    {
      name: 'gemini streamGenerateContent',
      format: 'gemini',
      path: `/v1beta/models/${model}:streamGenerateContent?alt=sse`,
      body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
    },
  ];
}
