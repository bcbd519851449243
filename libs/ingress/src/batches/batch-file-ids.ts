type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const named = (id: unknown) => id !== undefined && id !== null;

/**
 * Where a batch line's body names a file by id, if it does: a chat `file` part's
 * `file.file_id`, a Responses `input_file` or `input_image` part's `file_id`
 * (`body.messages[0].content[1].file.file_id`). A batch's lines go to its backend as
 * they are, so such an id would reach it unchecked: a gateway id it does not know, or a
 * provider's own id naming a file the caller may not read at a shared backend account.
 */
export function batchLineFileId(url: unknown, body: Json): string | undefined {
  if (url === '/v1/responses') return responsesFileId(body.input);
  const messages = body.messages;
  if (!Array.isArray(messages)) return undefined;
  for (const [i, message] of messages.entries()) {
    if (!isObject(message) || !Array.isArray(message.content)) continue;
    for (const [j, part] of message.content.entries()) {
      if (
        isObject(part) &&
        part.type === 'file' &&
        isObject(part.file) &&
        named(part.file.file_id)
      ) {
        return `body.messages[${i}].content[${j}].file.file_id`;
      }
    }
  }
  return undefined;
}

function responsesFileId(input: unknown): string | undefined {
  if (!Array.isArray(input)) return undefined;
  for (const [i, item] of input.entries()) {
    if (!isObject(item) || !Array.isArray(item.content)) continue;
    for (const [j, part] of item.content.entries()) {
      const typed = isObject(part) && (part.type === 'input_file' || part.type === 'input_image');
      if (typed && named(part.file_id)) return `body.input[${i}].content[${j}].file_id`;
    }
  }
  return undefined;
}
