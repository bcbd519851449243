import type { ModelPricing } from './gateway-config';

/**
 * Google bills its older text-embedding models on Vertex AI by the character, not the
 * token ($0.000025 per 1,000 characters of online requests, its published list price),
 * and the token-based catalog does not list them: without this their calls cost $0.
 * gemini-embedding models are billed by the token and are in the catalog.
 */
const PER_1K_CHARACTERS = 0.000025;

const CHARACTER_BILLED_MODELS = [
  /^text-embedding-00[45](?:$|@)/i,
  /^text-multilingual-embedding-002(?:$|@)/i,
  /^textembedding-gecko(?:-multilingual)?(?:$|@)/i,
];

/**
 * The per-character price of a Vertex text-embedding model (its id, without the
 * `publishers/google/models/` path: `catalogModelName`), or undefined for others.
 */
export function vertexCharacterPrice(id: string): ModelPricing | undefined {
  if (!CHARACTER_BILLED_MODELS.some((pattern) => pattern.test(id))) return undefined;
  return { inputPer1k: 0, outputPer1k: 0, per1kCharacters: PER_1K_CHARACTERS };
}
