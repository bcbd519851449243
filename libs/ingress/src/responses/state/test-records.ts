import type { JsonObject } from '@aigw/contracts/data-plane';
import type { ResponseObject } from '../domain/responses-response';
import type { StoredResponse } from './stored-response';

/** A stored record for the specs: one user message in, one assistant message out. */
export function storedRecord(
  id: string,
  owner: string,
  fields: { ancestors?: string[]; said?: string; answered?: string; padding?: number } = {},
): StoredResponse {
  const said = fields.said ?? `question of ${id}`;
  const answer: JsonObject = {
    type: 'message',
    id: `msg_${id}`,
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text: fields.answered ?? `answer of ${id}`, annotations: [] }],
  };
  return {
    id,
    owner,
    model: 'gpt-virtual',
    ancestors: fields.ancestors ?? [],
    input: [
      {
        type: 'message',
        id: `in_${id}`,
        role: 'user',
        content: [{ type: 'input_text', text: said + 'x'.repeat(fields.padding ?? 0) }],
      },
    ],
    response: {
      id,
      object: 'response',
      created_at: 1_750_000_000,
      status: 'completed',
      model: 'gpt-virtual',
      output: [answer],
      store: true,
    } as unknown as ResponseObject,
  };
}
