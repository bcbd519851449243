import type { JsonObject } from '@aigw/contracts/data-plane';

// Copy-on-write walks over JSON values, shared by the body redaction and the server tool
// texts: what nothing changed in comes back as the same object, so the common case
// allocates nothing.

/** `items` mapped, or `items` itself when no item changed. */
export function mapSame(items: readonly unknown[], map: (item: unknown) => unknown): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < items.length; i++) {
    const mapped = map(items[i]);
    if (mapped !== items[i]) {
      out ??= items.slice();
      out[i] = mapped;
    }
  }
  return out ?? (items as unknown[]);
}

/** Every string in a JSON value mapped; the same value when none changed. */
export function mapEveryString(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return mapSame(value, (item) => mapEveryString(item, map));
  if (!isObject(value)) return value;
  let out = value;
  for (const [key, item] of Object.entries(value)) {
    const mapped = mapEveryString(item, map);
    if (mapped !== item) out = { ...out, [key]: mapped };
  }
  return out;
}

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
