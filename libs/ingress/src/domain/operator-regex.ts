/**
 * An operator's pattern (blockPatterns, a redact rule) compiled to read characters, not
 * UTF-16 units: with the `u` flag an emoji is one character to `.` and to a class, so
 * `[💣]` does not match the half of 😀 it shares, and a redaction never leaves half an emoji
 * (a lone surrogate) in the text sent on. A pattern `u` refuses (identity escapes such as
 * `\-` or `\_` outside a class, which plain patterns allow) keeps its plain reading, so a
 * configuration that loaded before still does, and means what it meant.
 */
export function operatorRegExp(source: string, flags: string): RegExp {
  try {
    return new RegExp(source, `${flags}u`);
  } catch {
    return new RegExp(source, flags);
  }
}

/**
 * Where a search resumes after an empty match at `index`: one character on. For a `u`
 * pattern that is the whole of a surrogate pair, since its search resumed halfway through
 * one backs up to the pair's start and finds the same empty match again, without end.
 */
export function indexAfterEmptyMatch(text: string, index: number, regex: RegExp): number {
  const pair = regex.unicode && (text.codePointAt(index) ?? 0) > 0xffff;
  return index + (pair ? 2 : 1);
}
