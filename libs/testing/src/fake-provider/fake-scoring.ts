// Moderation and rerank answers of the fakes, computed from the request so tests can tell
// what reached the upstream.

/** The text the fake moderation flags (as `violence`), wherever it appears in an input. */
export const FAKE_FLAGGED_WORD = 'attack';

const CATEGORIES = ['harassment', 'hate', 'self-harm', 'sexual', 'violence'] as const;

/** OpenAI's moderation answer: one result per input, flagging FAKE_FLAGGED_WORD as violence. */
export function fakeModeration(model: string, body: Record<string, unknown>): unknown {
  const input = body.input;
  // A multimodal list is one input; a list of strings is one input each.
  const inputs: unknown[] =
    Array.isArray(input) && input.every((item) => typeof item === 'string') ? input : [input];
  return {
    id: 'modr-fake',
    model,
    results: inputs.map((item) => {
      const violent = JSON.stringify(item ?? '').includes(FAKE_FLAGGED_WORD);
      const flag = (category: string) => violent && category === 'violence';
      return {
        flagged: violent,
        categories: Object.fromEntries(CATEGORIES.map((name) => [name, flag(name)])),
        category_scores: Object.fromEntries(
          CATEGORIES.map((name) => [name, flag(name) ? 0.91 : 0.0001]),
        ),
        category_applied_input_types: Object.fromEntries(
          CATEGORIES.map((name) => [name, ['text']]),
        ),
      };
    }),
  };
}

/**
 * A rerank's results, best first: a document scores by the query's words it holds (ties
 * in document order), cut to `top_n`. `cohere` answers as Cohere's v2 API (no documents,
 * billed search units), else as vLLM (each document's text, total tokens in `usage`).
 */
export function fakeRerank(body: Record<string, unknown>, shape: 'cohere' | 'vllm'): unknown {
  const query = typeof body.query === 'string' ? body.query.toLowerCase().split(/\W+/) : [];
  const documents = Array.isArray(body.documents) ? body.documents.map(String) : [];
  const scored = documents
    .map((text, index) => {
      const words = new Set(text.toLowerCase().split(/\W+/));
      const hits = query.filter((word) => word !== '' && words.has(word)).length;
      return { index, text, relevance_score: hits / (query.length + 1) };
    })
    .sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index);
  const topN = typeof body.top_n === 'number' ? body.top_n : scored.length;
  const top = scored.slice(0, topN);
  if (shape === 'cohere') {
    return {
      id: 'rerank-cohere-fake',
      results: top.map(({ index, relevance_score }) => ({ index, relevance_score })),
      meta: {
        api_version: { version: '2' },
        billed_units: { search_units: Math.ceil(documents.length / 100) },
      },
    };
  }
  return {
    id: 'rerank-vllm-fake',
    model: body.model,
    usage: { total_tokens: 7 * documents.length },
    results: top.map(({ index, text, relevance_score }) => ({
      index,
      document: { text },
      relevance_score,
    })),
  };
}
