// On a route that reads an API key (a credential header as its user source or a tier's
// selector), the key counts whichever header the client's SDK sends it in: OpenAI's send
// Authorization, Anthropic's x-api-key, Azure's api-key, Google's x-goog-api-key. Read
// from the one header named only, every caller using another SDK was `anonymous`: one
// budget and one owner of stored objects for all of them, and no tier chosen by their key.
import { isCredentialHeader } from '@aigw/budget-core';
import { presentedCredential } from './bearer-token';
import { firstValue, type IncomingHeaders } from './tier-selector';

/** The credential headers among `headers`, lowercase, once each. */
export function credentialHeadersAmong(headers: readonly string[]): string[] {
  return [...new Set(headers.filter(isCredentialHeader).map((header) => header.toLowerCase()))];
}

/**
 * `incoming` with each of `read` (credential headers, lowercase) that the client left out
 * set to the credential it sent in another, as that header carries one (`Bearer ` first on
 * the Authorization headers). A header the client sent is kept as sent; two different
 * credentials in the others fill nothing: which one was meant is not guessed.
 */
export function withCredentialInHeaders(
  incoming: IncomingHeaders,
  read: readonly string[],
): IncomingHeaders {
  const absent = read.filter((header) => !firstValue(incoming[header])?.trim());
  if (absent.length === 0) return incoming;
  const credential = presentedCredential(incoming);
  if (credential.kind !== 'credential') return incoming;
  const filled: Record<string, string | string[] | undefined> = { ...incoming };
  for (const header of absent) {
    filled[header] = header.endsWith('authorization')
      ? `Bearer ${credential.value}`
      : credential.value;
  }
  return filled;
}
