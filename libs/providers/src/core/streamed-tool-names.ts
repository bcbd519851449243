import type { JsonObject } from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';

// OpenAI sends a streamed tool call's name whole in the call's first delta, but a
// compatible server may send it in pieces over several deltas (a name fragment each, the
// arguments after). An alias cut that way matches no alias piece by piece, so a call whose
// name could still become an alias is held back until its name is complete (its first
// arguments, another call, anything else in its choice, the finish, or the stream's end)
// and goes on as one delta with the client's name, at the call's own index. A name that
// can no longer become an alias goes on at once, so a stream without aliased calls is
// never held up.

/** A call whose name is still arriving: its deltas merged into one. */
interface HeldCall {
  readonly callIndex: unknown;
  readonly entry: JsonObject;
  readonly fn: JsonObject;
  /** The chunk it started in: a release in that chunk stays inside it. */
  readonly chunk: JsonObject;
}

/** The chunk fields a chunk of the gateway's own (a released call) copies. */
const ENVELOPE_FIELDS = ['id', 'object', 'created', 'model', 'system_fingerprint'] as const;

/**
 * Puts the client's names back in one OpenAI chat stream's tool calls, whole names or
 * split ones; `pass` each chunk in order, then `end` once the stream finished.
 */
export class StreamedToolNames {
  /** By choice index: a choice streams one call at a time. */
  private readonly held = new Map<number, HeldCall>();
  /** Calls (choice:index) whose name was decided: their later deltas pass as they are. */
  private readonly decided = new Set<string>();
  private envelope: JsonObject = {};

  /** `originals`: alias to the client's name. */
  constructor(private readonly originals: ReadonlyMap<string, string>) {}

  /** What to relay for one chunk: none while it carried only a held name. */
  pass(chunk: JsonObject): JsonObject[] {
    if (!Array.isArray(chunk.choices)) return [chunk];
    this.envelope = envelopeOf(chunk);
    const ahead: JsonObject[] = [];
    let emptied = false;
    for (const choice of chunk.choices) {
      if (!isJsonObject(choice)) continue;
      const choiceIndex = typeof choice.index === 'number' ? choice.index : 0;
      const delta = isJsonObject(choice.delta) ? choice.delta : undefined;
      if (delta && Array.isArray(delta.tool_calls)) {
        const kept = this.calls(choiceIndex, delta.tool_calls, chunk);
        if (kept.length === 0) {
          delete delta.tool_calls;
          emptied = true;
        } else delta.tool_calls = kept;
      }
      const held = this.held.get(choiceIndex);
      if (held && carriesMore(choice)) {
        // Started in this very chunk it goes back in it; else in a chunk of its own ahead.
        if (held.chunk === chunk && delta) {
          const kept: unknown[] = Array.isArray(delta.tool_calls) ? delta.tool_calls : [];
          delta.tool_calls = [...kept, this.release(choiceIndex)];
        } else ahead.push(this.releasedChunk(choiceIndex));
      }
    }
    const bare = emptied && chunk.usage == null && chunk.choices.every(isBareChoice);
    return bare ? ahead : [...ahead, chunk];
  }

  /** The calls still held when the stream ended, each in a chunk of its own. */
  end(): JsonObject[] {
    return [...this.held.keys()].map((choiceIndex) => this.releasedChunk(choiceIndex));
  }

  /** One choice's tool-call deltas, less the name fragments held, plus the calls released. */
  private calls(choiceIndex: number, calls: unknown[], chunk: JsonObject): unknown[] {
    const kept: unknown[] = [];
    for (const call of calls) {
      if (!isJsonObject(call)) {
        kept.push(call);
        continue;
      }
      const held = this.held.get(choiceIndex);
      if (held && held.callIndex !== call.index) kept.push(this.release(choiceIndex));
      else if (held) {
        merge(held, call);
        const name = held.fn.name as string;
        if (hasArguments(call) || this.originals.has(name) || !this.couldBecomeAlias(name)) {
          kept.push(this.release(choiceIndex));
        }
        continue;
      }
      const key = `${choiceIndex}:${String(call.index)}`;
      const fn = call.function;
      const name = isJsonObject(fn) && typeof fn.name === 'string' ? fn.name : undefined;
      if (this.decided.has(key) || name === undefined) {
        // A server may name the call again in a later delta: a whole alias is put back there
        // too (OpenAI's SDK keeps the last name given, and refuses a changed one).
        const again = name === undefined ? undefined : this.originals.get(name);
        kept.push(
          again === undefined
            ? call
            : { ...call, function: { ...(fn as JsonObject), name: again } },
        );
        continue;
      }
      this.decided.add(key);
      const original = this.originals.get(name);
      if (original !== undefined) {
        kept.push({ ...call, function: { ...(fn as JsonObject), name: original } });
      } else if (!hasArguments(call) && this.couldBecomeAlias(name)) {
        const copy: JsonObject = { ...(fn as JsonObject) };
        this.held.set(choiceIndex, {
          callIndex: call.index,
          entry: { ...call, function: copy },
          fn: copy,
          chunk,
        });
      } else kept.push(call);
    }
    return kept;
  }

  /** Whether a name is the start of an alias, and not one whole. */
  private couldBecomeAlias(name: string): boolean {
    for (const alias of this.originals.keys()) {
      if (alias.length > name.length && alias.startsWith(name)) return true;
    }
    return false;
  }

  /** A held call as one delta with its name complete, the client's where it is an alias. */
  private release(choiceIndex: number): JsonObject {
    const held = this.held.get(choiceIndex) as HeldCall;
    this.held.delete(choiceIndex);
    const name = held.fn.name as string;
    held.fn.name = this.originals.get(name) ?? name;
    return held.entry;
  }

  private releasedChunk(choiceIndex: number): JsonObject {
    const released = this.release(choiceIndex);
    return {
      ...this.envelope,
      choices: [{ index: choiceIndex, delta: { tool_calls: [released] }, finish_reason: null }],
    };
  }
}

/** A later delta of a held call added to it: the name and arguments appended, the rest kept. */
function merge(held: HeldCall, call: JsonObject): void {
  for (const [key, value] of Object.entries(call)) {
    if (key !== 'function' && isUnset(held.entry[key])) held.entry[key] = value;
  }
  const fn = isJsonObject(call.function) ? call.function : {};
  for (const [key, value] of Object.entries(fn)) {
    if ((key === 'name' || key === 'arguments') && typeof value === 'string') {
      held.fn[key] = `${typeof held.fn[key] === 'string' ? held.fn[key] : ''}${value}`;
    } else if (isUnset(held.fn[key])) held.fn[key] = value;
  }
}

function hasArguments(call: JsonObject): boolean {
  const fn = call.function;
  return isJsonObject(fn) && typeof fn.arguments === 'string' && fn.arguments !== '';
}

/** Whether a choice carries anything besides tool calls and its role: a held name is complete. */
function carriesMore(choice: JsonObject): boolean {
  if (!isUnset(choice.finish_reason)) return true;
  const delta = isJsonObject(choice.delta) ? choice.delta : {};
  return Object.entries(delta).some(
    ([key, value]) => key !== 'tool_calls' && key !== 'role' && !isUnset(value),
  );
}

/** A choice left with nothing to say once its held name fragments were taken out. */
function isBareChoice(choice: unknown): boolean {
  if (!isJsonObject(choice)) return false;
  const delta = isJsonObject(choice.delta) ? choice.delta : {};
  return (
    Object.keys(delta).length === 0 && isUnset(choice.finish_reason) && isUnset(choice.logprobs)
  );
}

function isUnset(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function envelopeOf(chunk: JsonObject): JsonObject {
  const envelope: JsonObject = {};
  for (const field of ENVELOPE_FIELDS) if (field in chunk) envelope[field] = chunk[field];
  return envelope;
}
