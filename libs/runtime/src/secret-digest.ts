// One way to check a presented secret (an operator or internal token) against the one set:
// compare SHA-256 digests in constant time. Digests are always 32 bytes, so neither the
// comparison nor an early return on a length mismatch tells a caller the secret's length.
import { createHash, timingSafeEqual } from 'node:crypto';

/** The digest a service keeps in place of a secret. */
export function secretDigest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Whether `presented` is the secret whose digest is `digest`; as long whatever was sent. */
export function matchesSecretDigest(presented: string, digest: Buffer): boolean {
  return timingSafeEqual(secretDigest(presented), digest);
}
