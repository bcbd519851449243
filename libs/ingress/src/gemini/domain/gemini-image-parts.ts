import type { JsonObject } from '@aigw/contracts/data-plane';
import { isObject } from '../../redaction/copy-on-write';

// The images an answer made (Gemini's image models, gemini-2.5-flash-image), which the
// canonical answer carries as OpenRouter does (`message.images` / `delta.images`, each an
// `image_url` of a base64 data URL), as Gemini's own `inlineData` parts.

const BASE64_MARK = ';base64,';

/** A base64 data URL as an inlineData part; undefined for any other URL. */
function inlinePart(url: unknown): JsonObject | undefined {
  if (typeof url !== 'string' || !url.startsWith('data:')) return undefined;
  const mark = url.indexOf(BASE64_MARK);
  if (mark <= 'data:'.length) return undefined;
  const mimeType = url.slice('data:'.length, mark);
  const data = url.slice(mark + BASE64_MARK.length);
  return data === '' ? undefined : { inlineData: { mimeType, data } };
}

/** A message's or delta's `images` as inlineData parts, in order (none: []). */
export function imageParts(images: unknown): JsonObject[] {
  if (!Array.isArray(images)) return [];
  return images.flatMap((entry: unknown) => {
    const imageUrl = isObject(entry) && isObject(entry.image_url) ? entry.image_url : undefined;
    const part = inlinePart(imageUrl?.url);
    return part ? [part] : [];
  });
}
