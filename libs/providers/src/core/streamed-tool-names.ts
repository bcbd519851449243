import type { JsonObject } from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';

// OpenAI sends a streamed tool call's name whole in the call's first delta, but a
// compatible server may send it in pieces over several deltas, interleave the pieces of
// parallel calls (index 0, then 1, then 0 again), or send a piece after the call's
// arguments began. An alias cut that way matches no alias piece by piece, and the edges
// that translate a stream (Messages, Responses, Gemini) read a call's name from its first
// delta. So each call (by choice and tool-call index) whose name is not yet whole is held,
// its argument deltas with it, and goes on as one delta: its complete name (the client's
// where it is an alias), then the arguments held, in order. A call named whole at once is
// never held: a stream whose names come whole and hold no alias relays every chunk as it is.

/** A call whose name is still arriving: its deltas merged into one. */
interface HeldCall {
  readonly entry: JsonObject;
  readonly fn: JsonObject;
  /** The chunk it started in: a release in that chunk stays inside it. */
  readonly chunk: JsonObject;
}

/** What the restore knows of the request. */
export interface StreamedToolNamesOptions {
  /** Alias to the client's name, when the request had aliases. */
  readonly originals?: ReadonlyMap<string, string>;
  /**
   * The request's tools as sent (aliases in): a name is whole once it is one of them and
   * no longer one begins with it. Without them (a translating adapter, whose names come
   * whole) only names that may still become an alias are held, until their arguments.
   */
  readonly tools?: readonly unknown[];
}

const NO_ALIASES: ReadonlyMap<string, string> = new Map();

/** The chunk fields a chunk of the gateway's own (a released call) copies. */
const ENVELOPE_FIELDS = ['id', 'object', 'created', 'model', 'system_fingerprint'] as const;

/**
 * Hands on one OpenAI chat stream's tool calls with each name whole, the client's where
 * it was sent as an alias; `pass` each chunk in order, then `end` once the stream finished.
 */
export class StreamedToolNames {
  private readonly originals: ReadonlyMap<string, string>;
  /** The names a call may be given; undefined: the aliases alone (see the options). */
  private readonly tools: readonly unknown[] | undefined;
  /** By choice index, then tool-call index, in the order the calls began. */
  private readonly held = new Map<number, Map<number, HeldCall>>();
  private heldCount = 0;
  /** By choice index: the highest tool-call index begun (a call at or below it is known). */
  private readonly lastIndex: number[] = [];
  private envelope: JsonObject = {};

  constructor(options: StreamedToolNamesOptions) {
    this.originals = options.originals ?? NO_ALIASES;
    this.tools = options.tools;
  }

  /**
   * What to relay for one chunk: undefined for the chunk as it is (nothing held, no alias
   * in it), else the chunks to send in its place (none while it carried only held deltas).
   */
  pass(chunk: JsonObject): JsonObject[] | undefined {
    if (!Array.isArray(chunk.choices) || this.passesAsIs(chunk.choices)) return undefined;
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
      // Anything else in the choice, or its finish, ends the names still arriving.
      const held = this.held.get(choiceIndex);
      if (!held || !carriesMore(choice)) continue;
      // Begun in this very chunk, a call goes back in it; else in a chunk of its own ahead.
      const indexes = [...held.keys()];
      const inside = delta ? indexes.filter((index) => held.get(index)?.chunk === chunk) : [];
      const before = indexes.filter((index) => !inside.includes(index));
      if (before.length > 0) ahead.push(this.releasedChunk(choiceIndex, before));
      if (inside.length > 0 && delta) {
        const kept: unknown[] = Array.isArray(delta.tool_calls) ? delta.tool_calls : [];
        delta.tool_calls = [...kept, ...inside.map((index) => this.release(choiceIndex, index))];
      }
    }
    const bare = emptied && chunk.usage == null && chunk.choices.every(isBareChoice);
    return bare ? ahead : [...ahead, chunk];
  }

  /** The calls still held when the stream ended, a chunk for each choice. */
  end(): JsonObject[] {
    return [...this.held.entries()].map(([choiceIndex, calls]) =>
      this.releasedChunk(choiceIndex, [...calls.keys()]),
    );
  }

  /**
   * Whether nothing in these choices needs a hold or a rename: nothing held, and each call
   * begun here named whole and by no alias. Notes the calls begun, without allocating.
   */
  private passesAsIs(choices: unknown[]): boolean {
    if (this.heldCount > 0) return false;
    for (const choice of choices) {
      if (!isJsonObject(choice) || !isJsonObject(choice.delta)) continue;
      const calls = choice.delta.tool_calls;
      if (!Array.isArray(calls)) continue;
      const choiceIndex = typeof choice.index === 'number' ? choice.index : 0;
      for (const call of calls) {
        if (!isJsonObject(call) || !isJsonObject(call.function)) continue;
        const name = typeof call.function.name === 'string' ? call.function.name : undefined;
        if (name !== undefined && this.originals.has(name)) return false;
        if (typeof call.index !== 'number' || call.index <= this.lastOf(choiceIndex)) continue;
        if (name === undefined || !this.isWhole(name)) return false;
        this.lastIndex[choiceIndex] = call.index;
      }
    }
    return true;
  }

  /** One choice's tool-call deltas, less those held, plus the calls released. */
  private calls(choiceIndex: number, calls: unknown[], chunk: JsonObject): unknown[] {
    const kept: unknown[] = [];
    for (const call of calls) {
      // A custom tool's call (no function) or one without its index is left as it came.
      if (!isJsonObject(call) || !isJsonObject(call.function) || typeof call.index !== 'number') {
        kept.push(isJsonObject(call) ? this.renamed(call) : call);
        continue;
      }
      const held = this.held.get(choiceIndex)?.get(call.index);
      if (held) {
        merge(held, call);
        if (this.isComplete(held.fn)) kept.push(this.release(choiceIndex, call.index));
        continue;
      }
      if (call.index <= this.lastOf(choiceIndex)) {
        // A later delta of a call handed on: a piece passes as it is, and a server naming
        // the call again gets the client's name for a whole alias (OpenAI's SDK keeps the
        // last name given, and refuses a changed one).
        kept.push(this.renamed(call));
        continue;
      }
      this.lastIndex[choiceIndex] = call.index;
      if (this.isComplete(call.function)) {
        kept.push(this.renamed(call));
        continue;
      }
      const fn: JsonObject = { ...call.function };
      const begun: HeldCall = { entry: { ...call, function: fn }, fn, chunk };
      let choiceHeld = this.held.get(choiceIndex);
      if (!choiceHeld) {
        choiceHeld = new Map<number, HeldCall>();
        this.held.set(choiceIndex, choiceHeld);
      }
      choiceHeld.set(call.index, begun);
      this.heldCount++;
    }
    return kept;
  }

  /**
   * Whether a call's name so far is its whole name: a whole alias, or a tool no longer one
   * begins with; once its arguments began, a tool (one a longer tool begins with) or a name
   * no tool begins with (a tool not offered); with only the aliases known, any name once
   * they began. A name that may still become a tool waits through its arguments: a server
   * may send a piece of it after them.
   */
  private isComplete(fn: JsonObject): boolean {
    const name = typeof fn.name === 'string' ? fn.name : '';
    if (this.originals.has(name) || this.isWhole(name)) return true;
    const argumentsBegan = typeof fn.arguments === 'string' && fn.arguments !== '';
    if (this.tools === undefined) return argumentsBegan || !this.mayGrowInto(name);
    return argumentsBegan && (this.isOffered(name) || !this.mayGrowInto(name));
  }

  private isOffered(name: string): boolean {
    return this.tools?.some((tool) => toolNameOf(tool) === name) ?? false;
  }

  /** Whether a name is one of the tools (the aliases alone when the tools are not known). */
  private isWhole(name: string): boolean {
    return this.tools === undefined ? this.originals.has(name) : isWholeName(name, this.tools);
  }

  /** Whether a longer tool name (or alias) begins with this one. */
  private mayGrowInto(name: string): boolean {
    if (this.tools !== undefined) {
      return this.tools.some((tool) => growsFrom(toolNameOf(tool), name));
    }
    for (const alias of this.originals.keys()) if (growsFrom(alias, name)) return true;
    return false;
  }

  private lastOf(choiceIndex: number): number {
    return this.lastIndex[choiceIndex] ?? -1;
  }

  private clientName(name: unknown): unknown {
    return typeof name === 'string' ? (this.originals.get(name) ?? name) : name;
  }

  /** A delta passing as it came, with the client's name where it names a whole alias. */
  private renamed(call: JsonObject): JsonObject {
    const fn = call.function;
    if (!isJsonObject(fn) || typeof fn.name !== 'string') return call;
    const original = this.originals.get(fn.name);
    return original === undefined ? call : { ...call, function: { ...fn, name: original } };
  }

  /** A held call as one delta: its name as far as it came (the client's for an alias). */
  private release(choiceIndex: number, callIndex: number): JsonObject {
    const calls = this.held.get(choiceIndex) as Map<number, HeldCall>;
    const held = calls.get(callIndex) as HeldCall;
    calls.delete(callIndex);
    if (calls.size === 0) this.held.delete(choiceIndex);
    this.heldCount--;
    held.fn.name = this.clientName(held.fn.name);
    return held.entry;
  }

  private releasedChunk(choiceIndex: number, callIndexes: number[]): JsonObject {
    const released = callIndexes.map((callIndex) => this.release(choiceIndex, callIndex));
    return {
      ...this.envelope,
      choices: [{ index: choiceIndex, delta: { tool_calls: released }, finish_reason: null }],
    };
  }
}

/** The name of a function tool as sent (`{type: "function", function: {name}}`). */
function toolNameOf(tool: unknown): string | undefined {
  const fn = isJsonObject(tool) ? tool.function : undefined;
  return isJsonObject(fn) && typeof fn.name === 'string' ? fn.name : undefined;
}

/** Whether a name is one of the tools, and no longer one begins with it. */
function isWholeName(name: string, tools: readonly unknown[]): boolean {
  let known = false;
  for (const tool of tools) {
    const other = toolNameOf(tool);
    if (other === name) known = true;
    else if (growsFrom(other, name)) return false;
  }
  return known;
}

/** Whether `other` is a longer name than `name` that begins with it. */
function growsFrom(other: string | undefined, name: string): boolean {
  return other !== undefined && other.length > name.length && other.startsWith(name);
}

/** A later delta of a held call added to it: the name and arguments appended, the rest kept. */
function merge(held: HeldCall, call: JsonObject): void {
  for (const [key, value] of Object.entries(call)) {
    if (key !== 'function' && isUnset(held.entry[key])) held.entry[key] = value;
  }
  const fn = isJsonObject(call.function) ? call.function : {};
  for (const [key, value] of Object.entries(fn)) {
    if ((key === 'name' || key === 'arguments') && typeof value === 'string') {
      // A server naming the call again, whole so far, adds nothing to its name.
      if (key === 'name' && value === held.fn.name) continue;
      held.fn[key] = `${typeof held.fn[key] === 'string' ? held.fn[key] : ''}${value}`;
    } else if (isUnset(held.fn[key])) held.fn[key] = value;
  }
}

/** Whether a choice carries anything besides tool calls and its role: held names are done. */
function carriesMore(choice: JsonObject): boolean {
  if (!isUnset(choice.finish_reason)) return true;
  const delta = isJsonObject(choice.delta) ? choice.delta : {};
  return Object.entries(delta).some(
    ([key, value]) => key !== 'tool_calls' && key !== 'role' && !isUnset(value),
  );
}

/** A choice left with nothing to say once its held deltas were taken out. */
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
