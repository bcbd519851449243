/** A non-empty list of finite numbers: what a client can store as a vector. */
function isVector(value: unknown): value is number[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((item) => typeof item === 'number' && Number.isFinite(item))
  );
}

/**
 * The vectors of an embeddings answer: one per input, all of one size (the size asked
 * for, if any), since a client stores them side by side. Undefined for anything else.
 */
export function embeddingVectors(
  vectors: unknown,
  inputCount: number,
  dimensions: number | undefined,
): number[][] | undefined {
  if (!Array.isArray(vectors) || vectors.length !== inputCount) return undefined;
  if (!vectors.every(isVector)) return undefined;
  const size = dimensions ?? vectors.at(0)?.length;
  return vectors.every((vector) => vector.length === size) ? vectors : undefined;
}

/**
 * Vectors scaled to unit length (a zero vector left as it is). Google normalizes only a
 * model's full-size vectors and leaves one cut to `outputDimensionality` for the caller to
 * scale, while OpenAI answers `dimensions` with unit vectors, which clients compare by
 * dot product.
 */
export function unitVectors(vectors: readonly number[][]): number[][] {
  return vectors.map((vector) => {
    const length = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
    return length === 0 ? vector : vector.map((value) => value / length);
  });
}
