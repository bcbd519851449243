/** Which backend holds an object, and the provider's own id for it. */
export interface HeldObject {
  /** The route (config name) whose backend holds the object. */
  readonly route: string;
  readonly backend: string;
  readonly providerId: string;
}

/** An OpenAI file or batch, or an Anthropic message batch. */
export type HeldKind = 'file' | 'batch' | 'message_batch';

/** The providers' own prefixes, so SDKs and tools that look at them still see what it is. */
const PREFIXES: Readonly<Record<HeldKind, string>> = {
  file: 'file-aigw_',
  batch: 'batch_aigw_',
  message_batch: 'msgbatch_aigw_',
};
/** Far longer than any real id; past it an id is not parsed at all. */
const MAX_ID_LENGTH = 2_048;

/**
 * The gateway's id for an object one backend holds: the provider's id and where it lives,
 * so any gateway replica can reach it without a look-up. Opaque to clients; who may use it
 * is recorded apart (the id alone grants nothing).
 */
export function gatewayId(kind: HeldKind, held: HeldObject): string {
  const packed = JSON.stringify([held.route, held.backend, held.providerId]);
  return PREFIXES[kind] + Buffer.from(packed).toString('base64url');
}

/** The object a gateway id names, or undefined for any other string. */
export function parseGatewayId(kind: HeldKind, id: string): HeldObject | undefined {
  const prefix = PREFIXES[kind];
  if (id.length > MAX_ID_LENGTH || !id.startsWith(prefix)) return undefined;
  const encoded = id.slice(prefix.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (
    !Array.isArray(parts) ||
    parts.length !== 3 ||
    !parts.every((part) => typeof part === 'string' && part !== '')
  ) {
    return undefined;
  }
  const [route, backend, providerId] = parts as [string, string, string];
  return { route, backend, providerId };
}
