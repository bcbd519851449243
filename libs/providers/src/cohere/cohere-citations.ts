import type { JsonObject } from '@aigw/contracts/data-plane';
import { isIndex, isJsonObject, isNonEmptyString } from '../core/json-shape';

// Cohere's citations (v2 chat: `message.citations`, streamed one per citation-start event)
// as OpenAI-format clients read them. Each Cohere citation is a span of the answer's text
// (`start`, `end`) and its sources: documents, or tool outputs the model read. OpenAI's
// chat completion carries citations as `message.annotations` of type `url_citation`
// ({start_index, end_index, url, title}: its web-search models' shape), which the openai
// SDKs type and clients already render as links; a vendor field would be one no client
// reads. So a source with a web URL (a `url` field of its document or tool output, as a
// search tool returns) becomes one url_citation over the citation's span, titled by the
// source's `title` or else its URL. A source without a URL has nothing a url_citation can
// hold and is left out, as are citations of the reasoning or tool plan (their spans are
// not in the answer's text). Streamed, the annotations of every citation-start come
// together in one chunk before the finish, whose delta holds `annotations`: the openai SDKs
// take such a delta's list as the whole of it.

/** Cohere's kind of the citations whose spans are in the answer's text (none: the same). */
const TEXT_CONTENT = 'TEXT_CONTENT';

/** Cohere's docs spell the kinds in capitals, its SDKs' types in lower case. */
function isTextContent(kind: unknown): boolean {
  return typeof kind === 'string' && kind.toUpperCase() === TEXT_CONTENT;
}

/** An http(s) URL, which a client may show as a link; anything else is not one. */
function webUrl(value: unknown): string | undefined {
  if (!isNonEmptyString(value)) return undefined;
  const parsed = URL.parse(value);
  return parsed && (parsed.protocol === 'https:' || parsed.protocol === 'http:')
    ? value
    : undefined;
}

/** What a source cites: a document's fields, or a tool output's. */
function citedFields(source: unknown): JsonObject | undefined {
  if (!isJsonObject(source)) return undefined;
  const fields = source.type === 'tool' ? source.tool_output : source.document;
  return isJsonObject(fields) ? fields : undefined;
}

/**
 * A citation's url_citation annotations: one per distinct web URL among its sources, over
 * its span moved by `offset` (where its text item starts in the answer). None for a
 * citation that is not of the answer's text or has no usable span.
 */
export function urlCitations(citation: unknown, offset: number): JsonObject[] {
  if (!isJsonObject(citation)) return [];
  const kind = citation.type;
  if (kind !== undefined && kind !== null && !isTextContent(kind)) return [];
  const { start, end } = citation;
  if (!isIndex(start) || !isIndex(end) || end < start) return [];
  const sources: unknown[] = Array.isArray(citation.sources) ? citation.sources : [];
  const annotations: JsonObject[] = [];
  const seen = new Set<string>();
  for (const source of sources) {
    const cited = citedFields(source);
    const url = webUrl(cited?.url);
    if (!cited || url === undefined || seen.has(url)) continue;
    seen.add(url);
    annotations.push({
      type: 'url_citation',
      url_citation: {
        start_index: offset + start,
        end_index: offset + end,
        url,
        title: isNonEmptyString(cited.title) ? cited.title : url,
      },
    });
  }
  return annotations;
}

/**
 * A text's length in code points, as Python indexes a string: Cohere's docs' examples
 * index the answer so (taken to hold past ASCII too), where a JavaScript length counts
 * UTF-16 units.
 */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** A citation's text item (`content_index`), when it names one. */
export function citedContentIndex(citation: unknown): number | undefined {
  return isJsonObject(citation) && isIndex(citation.content_index)
    ? citation.content_index
    : undefined;
}

/**
 * The url_citation annotations of a v2 chat message's citations, whose spans count from
 * the start of their text item (`content_index` in `content`, else the first): the answer
 * joins its text items after `before` characters (its tool plan), so each span moves by the
 * text before its item.
 */
export function messageUrlCitations(message: JsonObject, before = 0): JsonObject[] {
  if (!Array.isArray(message.citations)) return [];
  const starts = textItemStarts(message.content, before);
  return message.citations.flatMap((citation: unknown) => {
    const item = citedContentIndex(citation);
    return urlCitations(citation, item === undefined ? before : (starts.get(item) ?? before));
  });
}

/** Where each text item of a message's content starts in the joined answer text. */
function textItemStarts(content: unknown, first: number): Map<number, number> {
  const starts = new Map<number, number>();
  if (!Array.isArray(content)) return starts;
  let before = first;
  content.forEach((item: unknown, index) => {
    if (!isJsonObject(item) || item.type !== 'text' || typeof item.text !== 'string') return;
    starts.set(index, before);
    before += characterCount(item.text);
  });
  return starts;
}
