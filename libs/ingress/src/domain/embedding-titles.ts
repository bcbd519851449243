import type { JsonObject } from '@aigw/contracts/data-plane';

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * An embedding's document titles, which reach the provider beside its input: Vertex's
 * `title` sent beside `input`, and `provider_extras.title` (a Gemini client's, or a `/v1`
 * client's), shared or one per input (null where an input has none); their shapes were
 * checked first (text-shapes).
 */
export function embeddingTitles(body: JsonObject): string[] {
  const titles: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === 'string') titles.push(value);
    else if (Array.isArray(value)) value.forEach(collect);
  };
  collect(body.title);
  if (isObject(body.provider_extras)) collect(body.provider_extras.title);
  return titles;
}
