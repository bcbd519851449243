/**
 * An operator's pattern (blockPatterns, a redact rule) compiled to read characters, not
 * UTF-16 units: with the `u` flag an emoji is one character to `.` and to a class, so
 * `[💣]` does not match the half of 😀 it shares, and a redaction never leaves half an emoji
 * (a lone surrogate) in the text sent on. A pattern `u` refuses (identity escapes such as
 * `\-` or `\_` outside a class, which plain patterns allow) keeps its plain reading, so a
 * configuration that loaded before still does. The loader checks a pattern as compiled here,
 * the reading the edge applies.
 */
export function operatorRegExp(source: string, flags: string): RegExp {
  try {
    return new RegExp(source, `${flags}u`);
  } catch {
    return new RegExp(source, flags);
  }
}
