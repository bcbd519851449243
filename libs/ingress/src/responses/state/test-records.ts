import type { JsonObject } from '@aigw/contracts/data-plane';
import type { ResponseObject } from '../domain/responses-response';
import { isDeleted, type StoredEntry, type StoredResponse } from './stored-response';

/** What a store read gives, as records: a deletion marker fails the spec. */
export function asRecords(entries: readonly (StoredEntry | undefined)[]) {
  return entries.map((entry) => {
    if (entry && isDeleted(entry)) throw new Error(`${entry.id} is a deletion marker`);
    return entry;
  });
}

/**
 * A stored record for the specs: one user message in, one assistant message out, in the
 * form releases before the linear chain form wrote (its whole `ancestors` list).
 */
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
