import type { IncomingHttpHeaders } from 'node:http';
import type { JsonAnswer, JsonObject } from '@aigw/contracts/data-plane';

// A JSON answer crosses a hop as `{"status",...,"usage"...,"body":<body>}`, the body last,
// with a header that a peer of an older build ignores (the message is the same JSON):
//   x-aigw-body: <at>[;<model>]   <at>: where `,"body":` starts in the message, the body
//   running from there to the message's last `}`; <model> (URI-encoded): the `model` the
//   body names, when the provider-adapter already named it for the requested model, as the
//   router would.
// The router reads the envelope alone and passes the body on as the text it came as,
// unless something in it reads or changes the body (then it is parsed there and then).
export const BODY_HEADER = 'x-aigw-body';

const BODY_KEY = ',"body":';
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** Asked of a body through its proxy: its text while untouched (a key no JSON has). */
const TEXT = Symbol('body text');

/**
 * The proxy handler of one body kept as text: it holds the text until something reads or
 * changes the body, then parses it into the proxy's target. (The state lives here rather
 * than in WeakMaps: two WeakMap entries a body cost more than parsing a small one.)
 */
class BodyText implements ProxyHandler<JsonObject> {
  constructor(
    /** The body's JSON while nobody looked inside; undefined once parsed. */
    private text: string | undefined,
    /** The `model` the text names, when the sender said so. */
    private readonly model: string | undefined,
  ) {}

  get(target: JsonObject, key: string | symbol): unknown {
    if (key === TEXT) return this.text;
    if (key === 'model' && this.text !== undefined && this.model !== undefined) return this.model;
    return Reflect.get(this.parsed(target), key);
  }

  set(target: JsonObject, key: string | symbol, value: unknown): boolean {
    // Naming it for the model it already names changes nothing: keep the text.
    if (key === 'model' && this.text !== undefined && value === this.model) return true;
    return Reflect.set(this.parsed(target), key, value);
  }

  has(target: JsonObject, key: string | symbol): boolean {
    return Reflect.has(this.parsed(target), key);
  }

  ownKeys(target: JsonObject): (string | symbol)[] {
    return Reflect.ownKeys(this.parsed(target));
  }

  getOwnPropertyDescriptor(target: JsonObject, key: string | symbol) {
    return Reflect.getOwnPropertyDescriptor(this.parsed(target), key);
  }

  defineProperty(target: JsonObject, key: string | symbol, descriptor: PropertyDescriptor) {
    return Reflect.defineProperty(this.parsed(target), key, descriptor);
  }

  deleteProperty(target: JsonObject, key: string | symbol): boolean {
    return Reflect.deleteProperty(this.parsed(target), key);
  }

  private parsed(target: JsonObject): JsonObject {
    if (this.text === undefined) return target;
    const body = JSON.parse(this.text) as JsonObject;
    this.text = undefined;
    // Defined, not assigned: a `__proto__` key stays a key, as JSON.parse left it.
    for (const key of Object.keys(body)) {
      Object.defineProperty(target, key, {
        value: body[key],
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    return target;
  }
}

/** The JSON text of a body that came as text and was neither read nor changed. */
export function untouchedBodyText(body: JsonObject): string | undefined {
  const text = (body as { [TEXT]?: unknown })[TEXT];
  return typeof text === 'string' ? text : undefined;
}

/**
 * The answer message with its body kept as text, or undefined when the sender did not
 * mark where the body is (a peer of an older build): then the caller parses it whole.
 * Throws, as JSON.parse does, on an envelope that is not JSON.
 */
export function envelopeWithBodyText(
  message: string,
  headers: IncomingHttpHeaders,
): JsonObject | undefined {
  const marked = headers[BODY_HEADER];
  if (typeof marked !== 'string') return undefined;
  const semicolon = marked.indexOf(';');
  const at = Number(semicolon < 0 ? marked : marked.slice(0, semicolon));
  const bodyStart = at + BODY_KEY.length;
  if (
    !Number.isSafeInteger(at) ||
    at <= 0 ||
    !message.startsWith(BODY_KEY, at) ||
    message.charCodeAt(bodyStart) !== OPEN_BRACE ||
    message.charCodeAt(message.length - 1) !== CLOSE_BRACE ||
    message.charCodeAt(message.length - 2) !== CLOSE_BRACE
  ) {
    return undefined;
  }
  const envelope = JSON.parse(`${message.slice(0, at)}}`) as JsonObject;
  if (!envelope || typeof envelope !== 'object' || Array.isArray(envelope)) return undefined;
  const model = semicolon < 0 ? undefined : decodeURIComponent(marked.slice(semicolon + 1));
  envelope.body = new Proxy({}, new BodyText(message.slice(bodyStart, -1), model));
  return envelope;
}

/**
 * A JSON answer as its message, the body last, and the header that says where the body
 * is; with `namedModel`, that the body names this model (when it does).
 */
export function jsonAnswerMessage(
  answer: JsonAnswer,
  namedModel?: string,
): { message: string; bodyHeader: string } {
  const envelope = JSON.stringify({
    status: answer.status,
    servedBy: answer.servedBy,
    usage: answer.usage,
    ...(answer.mediaType === undefined ? {} : { mediaType: answer.mediaType }),
  });
  const body = untouchedBodyText(answer.body) ?? JSON.stringify(answer.body);
  const at = envelope.length - 1;
  const named = namedModel !== undefined && answer.body.model === namedModel;
  const model = named ? percentEncoded(namedModel) : undefined;
  return {
    message: `${envelope.slice(0, at)}${BODY_KEY}${body}}`,
    bodyHeader: model === undefined ? String(at) : `${at};${model}`,
  };
}

/**
 * `text` %-encoded, or undefined for a name with a lone surrogate (a client's model name on
 * a wildcard backend), which has no UTF-8 to encode: then the header names no model and the
 * receiver reads the name from the body, as it does for a body naming another.
 */
function percentEncoded(text: string): string | undefined {
  try {
    return encodeURIComponent(text);
  } catch {
    return undefined;
  }
}
