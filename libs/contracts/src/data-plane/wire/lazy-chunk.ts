import type { JsonObject } from '../data-plane.types';

interface LazyState {
  /** The frame line (tag, JSON, newline) while nobody looked inside; undefined once parsed. */
  line: Buffer | undefined;
  /** The `model` the sender wrote into the chunk. */
  readonly model: string;
}

// Keyed by the proxy's target; one shared handler, so a chunk costs two small objects.
const states = new WeakMap<object, LazyState>();
const rawByProxy = new WeakMap<object, LazyState>();

function materialize(target: JsonObject): JsonObject {
  const state = states.get(target);
  if (state?.line) {
    const parsed = JSON.parse(state.line.toString('utf8', 1, state.line.length - 1)) as JsonObject;
    state.line = undefined;
    Object.assign(target, parsed);
  }
  return target;
}

const THEN = Buffer.from('"then"');

const handler: ProxyHandler<JsonObject> = {
  get: (target, key): unknown => {
    // `yield` and `await` look for a `then` on every value: answer without parsing,
    // unless the chunk really has such a key.
    const line = key === 'then' ? states.get(target)?.line : undefined;
    if (line && !line.includes(THEN)) return undefined;
    return Reflect.get(materialize(target), key);
  },
  set: (target, key, value) => {
    const state = states.get(target);
    // Renaming to the name the chunk already carries changes nothing: keep it raw.
    if (state?.line && key === 'model' && value === state.model) return true;
    return Reflect.set(materialize(target), key, value);
  },
  has: (target, key) => Reflect.has(materialize(target), key),
  ownKeys: (target) => Reflect.ownKeys(materialize(target)),
  getOwnPropertyDescriptor: (target, key) =>
    Reflect.getOwnPropertyDescriptor(materialize(target), key),
  defineProperty: (target, key, descriptor) =>
    Reflect.defineProperty(materialize(target), key, descriptor),
  deleteProperty: (target, key) => Reflect.deleteProperty(materialize(target), key),
};

/**
 * A stream chunk that is parsed only if someone reads it. A router relays chunks it only
 * renames (to the name they already carry), so they cross it byte for byte.
 */
export function lazyChunk(line: Buffer, model: string): JsonObject {
  const target: JsonObject = {};
  const state: LazyState = { line, model };
  states.set(target, state);
  const proxy = new Proxy(target, handler);
  rawByProxy.set(proxy, state);
  return proxy;
}

/** The untouched frame line of a lazy chunk, or undefined if it was read or changed. */
export function rawChunkLine(chunk: JsonObject): Buffer | undefined {
  return rawByProxy.get(chunk)?.line;
}

/**
 * The JSON text of an untouched lazy chunk, or undefined if it was read or changed: what a
 * writer of another framing (the edge's server-sent events) can send without a parse and
 * a stringify of its own.
 */
export function rawChunkJson(chunk: JsonObject): string | undefined {
  const line = rawByProxy.get(chunk)?.line;
  return line?.toString('utf8', 1, line.length - 1);
}
