// The loaded config is shared by every request handler; freezing it makes accidental
// mutation throw in strict mode instead of leaking between requests.
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
