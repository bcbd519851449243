// A digest of the API keys a config uses, to tell whether the keys on disk differ from the
// ones in force without keeping a second copy of them. Held in memory only, never shown.
// An HMAC under a key drawn once per process, not a bare SHA-256: a plain hash of a key
// would let anyone who saw the digest check a guessed key against it. A poll hashes each
// key file's bytes as read, so it leaves no plaintext copies of the keys on the heap.
import { createHmac, randomBytes, type Hmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isUtf8 } from 'node:buffer';
import { type GatewayConfig, type SecretRef } from '../domain/gateway-config';
import { keyText, secretEnvVarName, type SecretSources } from '../secrets/secret-resolver';
import { type Secret } from '../domain/secret';

const FINGERPRINT_KEY = randomBytes(32);

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

/** The `<name>` folders of the secrets directory the config reads keys from. */
export function secretFolderNames(config: GatewayConfig): string[] {
  return [...new Set(heldKeys(config).map(({ ref }) => ref.name))];
}

/** The digest of the keys the config holds (a missing key counts as missing). */
export function fingerprintOfConfig(config: GatewayConfig): string {
  const hmac = createHmac('sha256', FINGERPRINT_KEY);
  for (const { ref, key } of heldKeys(config)) {
    addRef(hmac, ref);
    // reveal() hands back the string already held; update() encodes it natively.
    addValue(hmac, key === undefined ? undefined : key.reveal());
  }
  return hmac.digest('base64');
}

/**
 * The digest of the same references as they resolve now, the way resolveSecret() reads
 * them (the file first, surrounding white space dropped, empty as missing, then the
 * environment).
 * A key file should be replaced atomically (written elsewhere, then renamed into place, as
 * the kubelet does): one written in place can be read half-written, and that partial key
 * stays in force until the next change to the folder (the end of the write) is seen.
 */
export function fingerprintNow(config: GatewayConfig, sources: SecretSources): string {
  const hmac = createHmac('sha256', FINGERPRINT_KEY);
  for (const { ref } of heldKeys(config)) {
    addRef(hmac, ref);
    addValue(hmac, fileBytes(ref, sources.secretsDir) ?? envValue(ref, sources.env));
  }
  return hmac.digest('base64');
}

function addRef(hmac: Hmac, ref: SecretRef): void {
  hmac.update(ref.name).update('\0').update(ref.key).update('\0');
}

function addValue(hmac: Hmac, value: string | Buffer | undefined): void {
  if (value === undefined) {
    hmac.update('-\0');
    return;
  }
  // The length prefix keeps "missing" apart from any value and values apart from each other.
  const length = typeof value === 'string' ? Buffer.byteLength(value) : value.length;
  hmac.update(`${length}:`).update(value).update('\0');
}

/**
 * The key file's bytes without surrounding white space or a byte-order mark, as keyText()
 * reads its text (ASCII white space: a key holds no other); undefined when absent or empty.
 */
function fileBytes(ref: SecretRef, secretsDir: string | undefined): Buffer | string | undefined {
  if (secretsDir === undefined || secretsDir === '') return undefined;
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(secretsDir, ref.name, ref.key));
  } catch {
    return undefined; // unreadable counts as absent, as resolveSecret() has it
  }
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (start < bytes.length && isAsciiSpace(bytes[start])) start += 1;
  let end = bytes.length;
  while (end > start && isAsciiSpace(bytes[end - 1])) end -= 1;
  if (end === start) return undefined;
  const value = bytes.subarray(start, end);
  // Not UTF-8: the loader's copy has replacement characters, so digest what it decoded.
  return isUtf8(value) ? value : value.toString('utf8');
}

/** Space, tab, line feed, vertical tab, form feed, carriage return. */
function isAsciiSpace(byte: number | undefined): boolean {
  return byte === 0x20 || (byte !== undefined && byte >= 0x09 && byte <= 0x0d);
}

function envValue(ref: SecretRef, env: SecretSources['env']): string | undefined {
  return keyText(env[secretEnvVarName(ref)]);
}
