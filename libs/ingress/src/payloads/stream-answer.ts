import type { JsonObject } from '@aigw/contracts/data-plane';

interface ToolCallParts {
  id?: string;
  type?: string;
  name?: string;
  arguments: string[];
}

interface ChoiceParts {
  readonly index: number;
  readonly content: string[];
  readonly refusal: string[];
  readonly toolCalls: Map<number, ToolCallParts>;
  finishReason?: string;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

const objectOf = (value: unknown): JsonObject | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;

/**
 * A streamed answer put back together from its canonical (OpenAI) chunks, as logged: per
 * choice the text (a completion's `text` or a message's `content`), refusal, tool calls
 * with their arguments joined, and finish reason, plus the usage chunk; not every chunk.
 * Past `maxChars` of text, parts are counted but no longer kept, so a long stream holds
 * at most about that much.
 */
export class StreamAnswer {
  private id?: string;
  private model?: string;
  private usage?: unknown;
  private readonly choices = new Map<number, ChoiceParts>();
  private kept = 0;
  private droppedBytes = 0;

  constructor(private readonly maxChars: number) {}

  add(chunk: JsonObject): void {
    this.id ??= text(chunk.id);
    this.model ??= text(chunk.model);
    if (objectOf(chunk.usage)) this.usage = chunk.usage;
    if (!Array.isArray(chunk.choices)) return;
    for (const item of chunk.choices) {
      const choice = objectOf(item);
      if (!choice) continue;
      const parts = this.choice(typeof choice.index === 'number' ? choice.index : 0);
      const delta = objectOf(choice.delta);
      this.keep(parts.content, text(choice.text) ?? text(delta?.content));
      this.keep(parts.refusal, text(delta?.refusal));
      if (Array.isArray(delta?.tool_calls)) {
        for (const entry of delta.tool_calls) this.toolCall(parts, objectOf(entry));
      }
      const finish = text(choice.finish_reason);
      if (finish !== undefined) parts.finishReason = finish;
    }
  }

  /** Whether some text was left out (the logged answer is then cut too). */
  get truncated(): boolean {
    return this.droppedBytes > 0;
  }

  /** The assembled answer as JSON text, and the UTF-8 bytes of text left out of it. */
  assemble(): { readonly json: string; readonly droppedBytes: number } {
    const choices = [...this.choices.values()]
      .sort((a, b) => a.index - b.index)
      .map((c) => ({
        index: c.index,
        content: c.content.join(''),
        ...(c.refusal.length > 0 && { refusal: c.refusal.join('') }),
        ...(c.toolCalls.size > 0 && {
          tool_calls: [...c.toolCalls].map(([index, call]) => ({
            index,
            ...(call.id !== undefined && { id: call.id }),
            type: call.type ?? 'function',
            function: { name: call.name ?? '', arguments: call.arguments.join('') },
          })),
        }),
        finish_reason: c.finishReason ?? null,
      }));
    const answer = {
      ...(this.id !== undefined && { id: this.id }),
      ...(this.model !== undefined && { model: this.model }),
      choices,
      ...(this.usage !== undefined && { usage: this.usage }),
    };
    return { json: JSON.stringify(answer), droppedBytes: this.droppedBytes };
  }

  private choice(index: number): ChoiceParts {
    let parts = this.choices.get(index);
    if (!parts) {
      parts = { index, content: [], refusal: [], toolCalls: new Map() };
      this.choices.set(index, parts);
    }
    return parts;
  }

  private toolCall(parts: ChoiceParts, call: JsonObject | undefined): void {
    if (!call) return;
    const index = typeof call.index === 'number' ? call.index : parts.toolCalls.size;
    let found = parts.toolCalls.get(index);
    if (!found) {
      found = { arguments: [] };
      parts.toolCalls.set(index, found);
    }
    found.id ??= text(call.id);
    found.type ??= text(call.type);
    const fn = objectOf(call.function);
    found.name ??= text(fn?.name);
    this.keep(found.arguments, text(fn?.arguments));
  }

  private keep(into: string[], piece: string | undefined): void {
    if (piece === undefined) return;
    // Once full, every later piece is left out too: the kept text is a prefix, never gappy.
    if (this.droppedBytes > 0 || this.kept + piece.length > this.maxChars) {
      this.droppedBytes += Buffer.byteLength(piece);
      return;
    }
    this.kept += piece.length;
    into.push(piece);
  }
}
