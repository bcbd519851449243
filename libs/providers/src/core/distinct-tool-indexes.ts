import type { JsonObject } from '@aigw/contracts/data-plane';

/** What one choice's calls were given so far. */
interface ChoiceCalls {
  /** The backend's index: the index its latest call was given, and that call's first id. */
  readonly atIndex: Map<number, { readonly index: number; readonly id?: string }>;
  /**
   * Each call's id, under the backend's index it came at: the index it was given. Some
   * backends (DeepSeek, GLM) give parallel calls they number apart one id.
   */
  readonly byId: Map<string, number>;
  /** The indexes given so far. */
  readonly given: Set<number>;
}

/**
 * Tool-call indexes of an OpenAI-format stream made distinct per call. Some servers
 * (Ollama, LiteLLM's `ollama_chat`, some SGLang builds) stream every parallel call at
 * index 0, each call's first fragment with its own id. Clients and the edges key a call's
 * fragments by index, so those calls would run together into one, with arguments such as
 * `{"a":1}{"b":2}` that nothing can parse. A fragment whose id differs from the one its
 * index began with is a new call, given the backend's index if no call has it yet, else the
 * next free one; a fragment repeating a call's id at that call's index continues it; one
 * without an id (or with `""`, as vLLM continues a call) continues the call that began at
 * its index last. A backend that numbers its calls apart (OpenAI, vLLM, the translating
 * adapters) passes unchanged, even one giving them all one id.
 */
export class DistinctToolIndexes {
  private readonly choices = new Map<number, ChoiceCalls>();

  /** Renumbers, in place, the tool-call fragments of one streamed choice. */
  renumber(choice: JsonObject): void {
    const delta = choice.delta as JsonObject | undefined;
    const calls = delta?.tool_calls;
    if (!Array.isArray(calls) || calls.length === 0) return;
    const choiceIndex = typeof choice.index === 'number' ? choice.index : 0;
    let state = this.choices.get(choiceIndex);
    if (!state) {
      state = { atIndex: new Map(), byId: new Map(), given: new Set() };
      this.choices.set(choiceIndex, state);
    }
    for (const call of calls as unknown[]) {
      if (typeof call !== 'object' || call === null) continue;
      const fragment = call as JsonObject;
      if (typeof fragment.index !== 'number') continue;
      fragment.index = indexFor(state, fragment.index, fragment.id);
    }
  }
}

function indexFor(state: ChoiceCalls, backendIndex: number, rawId: unknown): number {
  const id = typeof rawId === 'string' && rawId !== '' ? rawId : undefined;
  const idKey = id === undefined ? undefined : `${backendIndex}:${id}`;
  const known = idKey === undefined ? undefined : state.byId.get(idKey);
  if (known !== undefined) return known;
  const latest = state.atIndex.get(backendIndex);
  // Continues the call that began here last: no id, or that call's own (or it named none).
  if (latest && (id === undefined || latest.id === undefined || latest.id === id)) {
    if (idKey !== undefined && latest.id === undefined) state.byId.set(idKey, latest.index);
    return latest.index;
  }
  let index = backendIndex;
  if (state.given.has(index)) index = Math.max(...state.given) + 1;
  state.given.add(index);
  state.atIndex.set(backendIndex, id === undefined ? { index } : { index, id });
  if (idKey !== undefined) state.byId.set(idKey, index);
  return index;
}
