type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const given = (value: unknown) => value !== undefined && value !== null;

/**
 * An input item that names a stored item by id: typed `item_reference`, or with no type
 * (OpenAI's ItemReference leaves it optional) and no role (an untyped message has one).
 */
const isItemReference = (item: unknown): boolean =>
  isObject(item) && (item.type === 'item_reference' || (!given(item.type) && !given(item.role)));

/** The tools a single Responses call takes: the caller's own, which the backend never runs. */
const CALLER_TOOLS: ReadonlySet<unknown> = new Set(['function', 'custom']);

/**
 * Why a Responses batch line is refused, or undefined: what a single `/v1/responses` call is
 * refused for, since a batch's lines reach the backend as written. Built-in tools
 * (web_search, file_search over the backend account's vector stores, code_interpreter,
 * mcp...) would run there, billed apart from tokens; a `prompt` template, an
 * `item_reference`, a `previous_response_id` or `conversation` (the backend's ids, not the
 * gateway's stored ones) would read what the shared backend account keeps, whoever's it is.
 */
export function responsesLineRefusal(body: Json): string | undefined {
  if (Array.isArray(body.tools)) {
    for (const [index, tool] of body.tools.entries()) {
      const type = isObject(tool) ? tool.type : undefined;
      if (!CALLER_TOOLS.has(type)) {
        return `sets body.tools[${index}].type ${JSON.stringify(type ?? null).slice(0, 64)}: this gateway runs no built-in tools, in a batch as in a single call; define a 'function' or 'custom' tool instead.`;
      }
    }
  }
  if (given(body.prompt)) {
    return "sets body.prompt: this gateway stores no prompt templates, in a batch as in a single call; send the prompt in 'input'.";
  }
  if (Array.isArray(body.input)) {
    const at = body.input.findIndex(isItemReference);
    if (at !== -1) {
      return `sets body.input[${at}] as an item_reference: a batch's requests reach its backend as written, where no item of this gateway's is kept; send the item itself in 'input'.`;
    }
  }
  for (const field of ['previous_response_id', 'conversation']) {
    if (given(body[field])) {
      return `sets body.${field}: a batch's requests reach its backend as written, where no response or conversation of this gateway's is kept; send the whole conversation in 'input'.`;
    }
  }
  return undefined;
}
