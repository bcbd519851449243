// Validates a document whose long lists (a route's backends, a tier list) would make one
// validation too long to run without giving the event loop back: the document without
// those lists first, then the lists' entries a slice at a time. That is what validating
// the whole document does (each entry of a nested list is validated on its own), so a
// document that passes gets the same DTO. One that fails anywhere is validated again
// whole, so its problems are exactly those, in the order, a single validation reports.
import { type ClassConstructor } from 'class-transformer';
import { validateDto, type DtoResult } from '../schema/validate-dto';
import { type Steps } from './steps';

/** A list in a document that may be long, and the DTO of its entries. */
export interface ListSlot {
  readonly path: readonly string[];
  readonly item: ClassConstructor<object>;
}

/** Entries validated between pause points: a few milliseconds' worth. */
export const ENTRIES_PER_STEP = 100;

type Mapping = Record<string, unknown>;

const isMapping = (value: unknown): value is Mapping =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function listAt(value: unknown, path: readonly string[]): unknown[] | undefined {
  let at = value;
  for (const key of path) {
    if (!isMapping(at)) return undefined;
    at = at[key];
  }
  return Array.isArray(at) ? at : undefined;
}

/** A copy of `value` with the list at `path` emptied; the rest is shared, not copied. */
function withEmptyList(value: Mapping, path: readonly string[]): Mapping {
  const [key, ...rest] = path;
  if (key === undefined) return value;
  const child = value[key];
  return { ...value, [key]: rest.length === 0 ? [] : withEmptyList(child as Mapping, rest) };
}

function setList(dto: object, path: readonly string[], entries: object[]): void {
  let at = dto as Mapping;
  for (const key of path.slice(0, -1)) at = at[key] as Mapping;
  at[path[path.length - 1]] = entries;
}

export function* validateInSlices<T extends object>(
  cls: ClassConstructor<T>,
  plain: Mapping,
  slots: readonly ListSlot[],
): Steps<DtoResult<T>> {
  // Only lists of mappings: anything else is an error the whole validation words.
  const long = slots
    .map((slot) => ({ slot, entries: listAt(plain, slot.path) }))
    .filter(
      (found): found is { slot: ListSlot; entries: unknown[] } =>
        found.entries !== undefined &&
        found.entries.length > ENTRIES_PER_STEP &&
        found.entries.every(isMapping),
    );
  if (long.length === 0) return validateDto(cls, plain);
  const shell = long.reduce((doc, { slot }) => withEmptyList(doc, slot.path), plain);
  const outer = validateDto(cls, shell);
  if (!outer.ok) return validateDto(cls, plain);
  for (const { slot, entries } of long) {
    const dtos: object[] = [];
    for (const [index, entry] of entries.entries()) {
      if (index % ENTRIES_PER_STEP === 0) yield;
      const checked = validateDto(slot.item, entry as Mapping);
      if (!checked.ok) {
        yield;
        return validateDto(cls, plain);
      }
      dtos.push(checked.value);
    }
    setList(outer.value, slot.path, dtos);
  }
  return outer;
}
