// Rough token counts for providers that report none. Roughly four characters a token
// for English text is what OpenAI documents; an estimate is always marked as one.
const CHARS_PER_TOKEN = 4;

export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / CHARS_PER_TOKEN));
}

/** Concatenates the text a chat request carries, for estimating its prompt tokens. */
export function promptText(body: Record<string, unknown>): string {
  const parts: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === 'string') parts.push(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      collect(record.content ?? record.text);
    }
  };
  collect(body.messages ?? body.prompt ?? body.input);
  return parts.join('\n');
}
