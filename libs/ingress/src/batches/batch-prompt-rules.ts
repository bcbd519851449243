import type { JsonObject, Operation } from '@aigw/contracts/data-plane';

/** A body under a route's prompt rules, as the operation named reads it (may throw). */
export type ScreenPrompt = (operation: Operation, body: JsonObject) => JsonObject;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A batch line's `body` under the prompt rules, read as its `url` says: chat completions
 * and embeddings as single calls of theirs are; a Responses API body through the chat
 * messages a single Responses call becomes (instructions, input messages, function call
 * arguments and outputs) and written back where each came from; any other url's body as
 * a completion's (prompt, suffix, input), so no line passes unread.
 */
export function screenBatchBody(url: unknown, body: JsonObject, screen: ScreenPrompt): JsonObject {
  if (url === '/v1/chat/completions') return screen('chat', body);
  if (url === '/v1/embeddings') return screen('embeddings', body);
  if (url === '/v1/responses') return screenResponses(body, screen);
  return screen('completions', body);
}

/** One Responses input item as a chat message, and back (undefined: nothing to read). */
interface ItemView {
  readonly message: JsonObject;
  readonly back: (message: JsonObject) => unknown;
}

function itemView(item: unknown): ItemView | undefined {
  if (typeof item === 'string') {
    return { message: { role: 'user', content: item }, back: (m) => m.content };
  }
  if (!isObject(item)) return undefined;
  if (item.type === 'function_call' && typeof item.arguments === 'string') {
    return {
      message: { role: 'assistant', tool_calls: [{ function: { arguments: item.arguments } }] },
      back: (m) => {
        const args = ((m.tool_calls as JsonObject[])[0].function as JsonObject).arguments;
        return args === item.arguments ? item : { ...item, arguments: args };
      },
    };
  }
  if (item.type === 'function_call_output' && typeof item.output === 'string') {
    return {
      message: { role: 'tool', content: item.output },
      back: (m) => (m.content === item.output ? item : { ...item, output: m.content }),
    };
  }
  // A message item ({role, content}) reads as a chat message as it is.
  return 'content' in item ? { message: item, back: (m) => m } : undefined;
}

function screenResponses(body: JsonObject, screen: ScreenPrompt): JsonObject {
  const views: { at: 'instructions' | number; view: ItemView }[] = [];
  if (typeof body.instructions === 'string') {
    views.push({ at: 'instructions', view: itemView(body.instructions)! });
  }
  const input = body.input;
  const items = Array.isArray(input) ? input : [input];
  items.forEach((item, index) => {
    const view = itemView(item);
    if (view) views.push({ at: index, view });
  });
  const messages = views.map(({ view }) => view.message);
  const screened = screen('chat', { messages }).messages as JsonObject[];
  let out = body;
  let outItems: unknown[] | undefined;
  views.forEach(({ at, view }, index) => {
    if (screened[index] === messages[index]) return;
    const back = view.back(screened[index]);
    if (at === 'instructions') out = { ...out, instructions: back };
    else {
      outItems ??= items.slice();
      outItems[at] = back;
    }
  });
  if (outItems) out = { ...out, input: Array.isArray(input) ? outItems : outItems[0] };
  return out;
}
