import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@aigw/contracts/data-plane';
import { parseChatRequest } from '../core/chat-request';
import { toGeminiRequest } from './gemini-request';

const call = (id: string, city: string) => ({
  id,
  type: 'function',
  function: { name: 'get_weather', arguments: JSON.stringify({ city }) },
});

/** The parts of each content Gemini is sent, as `call <city>` and `result <text>`. */
function sentTurns(messages: JsonObject[]): string[][] {
  const body = toGeminiRequest(parseChatRequest({ messages }));
  return (body.contents as { parts: JsonObject[] }[]).map((content) =>
    content.parts.map((part) => {
      const fn = part.functionCall as { args: { city: string } } | undefined;
      if (fn) return `call ${fn.args.city}`;
      const result = part.functionResponse as { response: { content: string } } | undefined;
      if (result) return `result ${result.response.content}`;
      return `text ${String(part.text)}`;
    }),
  );
}

describe('tool results to Gemini, which pairs them with the calls by position', () => {
  it('sends the results of parallel calls in the order of the calls, whatever order they came in', () => {
    // OpenAI pairs results with calls by id, so a client may send them as its tools finish;
    // Gemini reads the first functionResponse of a name as the first call's of that name.
    const turns = sentTurns([
      { role: 'user', content: 'Weather in Paris, Oslo and Rome?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [call('c_paris', 'Paris'), call('c_oslo', 'Oslo'), call('c_rome', 'Rome')],
      },
      { role: 'tool', tool_call_id: 'c_rome', content: 'Rome: 24C' },
      { role: 'tool', tool_call_id: 'c_paris', content: 'Paris: 18C' },
      { role: 'tool', tool_call_id: 'c_oslo', content: 'Oslo: 4C' },
      { role: 'user', content: 'Which is warmest?' },
    ]);
    assert.deepEqual(turns, [
      ['text Weather in Paris, Oslo and Rome?'],
      ['call Paris', 'call Oslo', 'call Rome'],
      ['result Paris: 18C', 'result Oslo: 4C', 'result Rome: 24C', 'text Which is warmest?'],
    ]);
  });

  it('orders each turn by its own calls, and keeps results of no call of that turn where they were', () => {
    const turns = sentTurns([
      { role: 'user', content: 'Go' },
      { role: 'assistant', content: null, tool_calls: [call('a1', 'A'), call('a2', 'B')] },
      { role: 'tool', tool_call_id: 'a2', content: 'B done' },
      { role: 'tool', tool_call_id: 'a1', content: 'A done' },
      { role: 'assistant', content: null, tool_calls: [call('b1', 'C'), call('b2', 'D')] },
      { role: 'tool', tool_call_id: 'b1', content: 'C done' },
      { role: 'tool', tool_call_id: 'b2', content: 'D done' },
    ]);
    assert.deepEqual(turns, [
      ['text Go'],
      ['call A', 'call B'],
      ['result A done', 'result B done'],
      ['call C', 'call D'],
      ['result C done', 'result D done'],
    ]);
  });
});
