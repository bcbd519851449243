import type { JsonObject } from '@aigw/contracts/data-plane';
import { isIndex, isJsonObject } from '../core/json-shape';

// Claude on Bedrock cites the documents that ask for it (a DocumentBlock's `citations:
// {enabled: true}`) in Converse's own shape: a `citationsContent` block (the cited text in
// `content`, its sources in `citations`) in a JSON answer, and a `citation` delta before the
// cited block's text in a stream. Each source (Converse's Citation: `title`, `sourceContent`,
// a `location` union) becomes the citation Anthropic's Messages API gives for the same
// document, which is what the gateway carries on a text part (`citations`).

/** A Converse location's member, as Anthropic's citation type and its two index fields. */
const LOCATIONS: Readonly<Record<string, readonly [type: string, start: string, end: string]>> = {
  documentChar: ['char_location', 'start_char_index', 'end_char_index'],
  documentPage: ['page_location', 'start_page_number', 'end_page_number'],
  documentChunk: ['content_block_location', 'start_block_index', 'end_block_index'],
};

/** The cited passage: Converse gives it as a list of text pieces. */
function citedText(sourceContent: unknown): string {
  if (!Array.isArray(sourceContent)) return '';
  return sourceContent
    .map((piece) => (isJsonObject(piece) && typeof piece.text === 'string' ? piece.text : ''))
    .join('');
}

/**
 * A Converse Citation as Anthropic's, or undefined for a location with no document counterpart
 * (a search result or web page, which only the tools Bedrock runs itself produce) or one
 * without its indexes.
 */
export function anthropicCitation(citation: unknown): JsonObject | undefined {
  if (!isJsonObject(citation) || !isJsonObject(citation.location)) return undefined;
  for (const [member, [type, startField, endField]] of Object.entries(LOCATIONS)) {
    const location = citation.location[member];
    if (!isJsonObject(location)) continue;
    const { documentIndex, start, end } = location;
    if (!isIndex(documentIndex) || !isIndex(start) || !isIndex(end)) return undefined;
    return {
      type,
      cited_text: citedText(citation.sourceContent),
      document_index: documentIndex,
      document_title: typeof citation.title === 'string' ? citation.title : null,
      [startField]: start,
      [endField]: end,
    };
  }
  return undefined;
}

/** A `citationsContent` block's text and its citations in Anthropic's shape. */
export function citedContent(block: unknown): { text: string; citations: JsonObject[] } {
  if (!isJsonObject(block)) return { text: '', citations: [] };
  const text = citedText(block.content);
  const citations: JsonObject[] = [];
  for (const citation of Array.isArray(block.citations) ? block.citations : []) {
    const source = anthropicCitation(citation);
    if (source) citations.push(source);
  }
  return { text, citations };
}
