/**
 * Azure OpenAI's `error.innererror`: the detail of a content-filter refusal
 * (`{"code": "ResponsibleAIPolicyViolation", "content_filter_result": {"hate": {"filtered":
 * true, "severity": "high"}, ...}}`), which tells a client which category fired. It reaches
 * OpenAI-shaped clients as Azure sends it, and every other API as words in the message.
 */
export type ProviderInnerError = Readonly<Record<string, InnerErrorValue>>;

/**
 * The field of an error that holds it: `innererror` on chat and completions, `inner_error`
 * (with `content_filter_results`) on image generation and some newer APIs.
 */
export type InnerErrorField = 'innererror' | 'inner_error';

/** The inner error an OpenAI-shaped `error` object carries, and under which field. */
export function innerErrorIn(
  error: { readonly innererror?: unknown; readonly inner_error?: unknown } | undefined,
): { readonly field: InnerErrorField; readonly value: unknown } | undefined {
  if (error?.innererror !== undefined) return { field: 'innererror', value: error.innererror };
  if (error?.inner_error !== undefined) return { field: 'inner_error', value: error.inner_error };
  return undefined;
}

type InnerErrorValue =
  | boolean
  | number
  | string
  | readonly InnerErrorValue[]
  | { readonly [key: string]: InnerErrorValue };

/** Deep enough for Azure's: innererror.content_filter_result.custom_blocklists.details[0]. */
const MAX_DEPTH = 5;
const MAX_ENTRIES = 24;
const MAX_STRING_CHARS = 128;
const KEY = /^[A-Za-z_][\w]{0,63}$/;

/**
 * A provider's `innererror` as a client may see it: object keys shaped like field names,
 * booleans, numbers and short strings (a category's severity, a blocklist id), a bounded
 * number of each; anything else left out. `text` makes a provider's string fit to pass on
 * (its key-like runs redacted); a key it would change is left out. Undefined when nothing
 * is left.
 */
export function providerInnerError(
  value: unknown,
  text: (raw: string) => string = (raw) => raw,
): ProviderInnerError | undefined {
  const kept = keptValue(value, 0, text);
  if (kept === undefined || typeof kept !== 'object' || Array.isArray(kept)) return undefined;
  return Object.keys(kept).length > 0 ? (kept as ProviderInnerError) : undefined;
}

function keptValue(
  value: unknown,
  depth: number,
  text: (raw: string) => string,
): InnerErrorValue | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') {
    return value.length <= MAX_STRING_CHARS ? text(value) : undefined;
  }
  if (depth >= MAX_DEPTH || typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    const items = value
      .slice(0, MAX_ENTRIES)
      .map((item) => keptValue(item, depth + 1, text))
      .filter((item): item is InnerErrorValue => item !== undefined);
    return items;
  }
  const kept: Record<string, InnerErrorValue> = {};
  for (const [key, entry] of Object.entries(value).slice(0, MAX_ENTRIES)) {
    // A field name `text` would change (a key, an echoed secret) is no field name: left out.
    if (!KEY.test(key) || text(key) !== key) continue;
    const keptEntry = keptValue(entry, depth + 1, text);
    if (keptEntry !== undefined) kept[key] = keptEntry;
  }
  return kept;
}

/**
 * The categories a content-filter verdict blocked, in words for a message: "hate (high),
 * jailbreak". Undefined when the error names none.
 */
export function filteredCategoriesText(inner: ProviderInnerError | undefined): string | undefined {
  const result = inner?.content_filter_result ?? inner?.content_filter_results;
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return undefined;
  const fired: string[] = [];
  for (const [category, verdict] of Object.entries(result as Record<string, InnerErrorValue>)) {
    if (typeof verdict !== 'object' || verdict === null || Array.isArray(verdict)) continue;
    const { filtered, severity } = verdict as Record<string, InnerErrorValue>;
    if (filtered !== true) continue;
    fired.push(typeof severity === 'string' ? `${category} (${severity})` : category);
  }
  return fired.length > 0 ? fired.join(', ') : undefined;
}
