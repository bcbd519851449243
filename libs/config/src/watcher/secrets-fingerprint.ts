// A digest of the API keys a config uses, to tell whether the keys on disk differ from the
// ones in force without keeping a second copy of them. Held in memory only, never shown.
import { createHash } from 'node:crypto';
import { type GatewayConfig, type SecretRef } from '../domain/gateway-config';
import { resolveSecret, type SecretSources } from '../secrets/secret-resolver';
import { type Secret } from '../domain/secret';

interface HeldKey {
  readonly ref: SecretRef;
  readonly key: Secret | undefined;
}

/** Each secret the config's API-key backends read in this process, once, with its key. */
function heldKeys(config: GatewayConfig): HeldKey[] {
  const held = new Map<string, HeldKey>();
  for (const route of config.routes) {
    for (const backend of route.backends) {
      const auth = backend.auth;
      if (auth.kind !== 'apiKey' || auth.keyHeldElsewhere === true) continue;
      held.set(`${auth.secretRef.name}\0${auth.secretRef.key}`, {
        ref: auth.secretRef,
        key: auth.apiKey,
      });
    }
  }
  return [...held.values()];
}

/** Whether the config reads any key in this process (else there is nothing to watch). */
export function readsKeys(config: GatewayConfig): boolean {
  return heldKeys(config).length > 0;
}

/** The digest of the keys the config holds (a missing key counts as missing). */
export function fingerprintOfConfig(config: GatewayConfig): string {
  return digest(heldKeys(config).map(({ ref, key }) => [ref, key?.reveal()]));
}

/** The digest of the same references as they resolve now, from the directory and env. */
export function fingerprintNow(config: GatewayConfig, sources: SecretSources): string {
  return digest(
    heldKeys(config).map(({ ref }) => {
      const lookup = resolveSecret(ref, sources);
      return [ref, lookup.found ? lookup.secret.reveal() : undefined];
    }),
  );
}

function digest(entries: readonly (readonly [SecretRef, string | undefined])[]): string {
  const hash = createHash('sha256');
  for (const [ref, value] of entries) {
    hash.update(`${ref.name}\0${ref.key}\0`);
    // The length prefix keeps "missing" apart from any value and values apart from each other.
    hash.update(value === undefined ? '-\0' : `${value.length}:${value}\0`);
  }
  return hash.digest('base64');
}
