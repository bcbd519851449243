import { isServerToolBlockType, type JsonObject } from '@aigw/contracts/data-plane';
import { isObject, mapEveryString, mapSame } from './copy-on-write';

/** A text's checked (masked) form; the same string when nothing in it matched. */
export type MapText = (text: string) => string;

// The readable text in Anthropic's server tool blocks and citations (@aigw/contracts
// anthropic-server-tools), for the prompt and answer rules: a search's query (the call's
// input), the results' titles, the cited text, a fetched page's text, a code run's output.
// What Anthropic reads back unseen passes as it came: `encrypted_*` fields (a search
// result's page, a citation's index), ids, URLs, types and codes, like signed thinking.

/** Fields whose string value is text a reader sees, wherever they stand in a result. */
const READABLE = new Set(['title', 'document_title', 'cited_text', 'text', 'stdout', 'stderr']);

/**
 * A server tool's block with its readable text mapped by `map`: every string of a call's
 * input (as a tool call's arguments are), and a result's titles, texts and outputs. The
 * same object when nothing changed (copy on write); any other part as it came.
 */
export function mapServerToolBlockTexts(block: JsonObject, map: MapText): JsonObject {
  if (!isServerToolBlockType(block.type)) return block;
  if (block.type === 'server_tool_use') {
    const input = mapEveryString(block.input, map);
    return input === block.input ? block : { ...block, input };
  }
  return mapReadable(block, map);
}

/** A text part's citations with their quoted text and titles mapped; the same list when none changed. */
export function mapCitationTexts(citations: readonly unknown[], map: MapText): unknown[] {
  return mapSame(citations, (citation) =>
    isObject(citation) ? mapReadable(citation, map) : citation,
  );
}

/** Whether a content part is an Anthropic server tool's block. */
export function isServerToolPart(part: unknown): part is JsonObject {
  return isObject(part) && isServerToolBlockType(part.type);
}

/**
 * An object's readable strings mapped, its objects and lists walked: a READABLE field, a
 * text document's `data` (a fetched page: `source: {type: "text", data}`), a string
 * `content` (a text editor's file) and the strings of `lines` (its diff).
 */
function mapReadable(value: JsonObject, map: MapText): JsonObject {
  let out = value;
  for (const [key, item] of Object.entries(value)) {
    if (key.startsWith('encrypted_')) continue;
    let mapped: unknown = item;
    if (typeof item === 'string') {
      if (isReadable(key, value)) mapped = map(item);
    } else if (Array.isArray(item)) {
      mapped = mapSame(item, (entry) => {
        if (typeof entry === 'string') return key === 'lines' ? map(entry) : entry;
        return isObject(entry) ? mapReadable(entry, map) : entry;
      });
    } else if (isObject(item)) {
      mapped = mapReadable(item, map);
    }
    if (mapped !== item) out = { ...out, [key]: mapped };
  }
  return out;
}

function isReadable(key: string, holder: JsonObject): boolean {
  if (READABLE.has(key) || key === 'content') return true;
  // A base64 source (a fetched PDF) is not text: only a text source's data is read.
  return key === 'data' && holder.type === 'text';
}
