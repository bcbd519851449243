/**
 * The heap a string's characters take: V8 keeps one byte a character, or two for a string
 * with any character past U+00FF. Its UTF-8 size is not it: a mostly ASCII answer with one
 * em dash or emoji takes twice its UTF-8 size.
 */
export function heapBytesOf(text: string): number {
  return /[\u0100-\uffff]/.test(text) ? 2 * text.length : text.length;
}
