/**
 * Where a search resumes after an empty match at `index`: one character on. For a `u`
 * pattern (operatorRegExp) that is the whole of a surrogate pair, since its search resumed
 * halfway through one backs up to the pair's start and finds the same empty match again,
 * without end.
 */
export function indexAfterEmptyMatch(text: string, index: number, regex: RegExp): number {
  const pair = regex.unicode && (text.codePointAt(index) ?? 0) > 0xffff;
  return index + (pair ? 2 : 1);
}
