// Resolves `apiKeyRef {name, key}` to a Secret: first the mounted secrets directory
// (the Kubernetes secret-volume layout), then the environment.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Secret } from '../domain/secret';
import { type SecretRef } from '../domain/gateway-config';

/** Key used when `apiKeyRef` names no `key`. */
export const DEFAULT_SECRET_KEY = 'apiKey';

/** Environment variable naming the secrets directory. */
export const SECRETS_DIR_ENV = 'AI_GATEWAY_SECRETS_DIR';

/**
 * The environment variable that holds a secret when it is not in the secrets directory:
 * `AI_GATEWAY_SECRET_<NAME>_<KEY>`, built by joining the prefix, the ref's `name` and
 * `key` with `_`, upper-casing everything and replacing every character that is not
 * A-Z or 0-9 with `_` (no collapsing).
 * Example: `{name: "openai-key"}` (key `apiKey`) -> `AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY`;
 * `{name: "llm-credentials", key: "openai-api-key"}` ->
 * `AI_GATEWAY_SECRET_LLM_CREDENTIALS_OPENAI_API_KEY`.
 */
export function secretEnvVarName(ref: SecretRef): string {
  return `AI_GATEWAY_SECRET_${ref.name}_${ref.key}`.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

export type SecretLookup =
  | { readonly found: true; readonly secret: Secret; readonly from: 'file' | 'env' }
  | { readonly found: false; readonly reason: string };

export interface SecretSources {
  /** Directory holding `<name>/<key>` files; undefined = environment only. */
  readonly secretsDir?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * A key as stored, without a leading byte-order mark (Notepad's: no HTTP header can carry
 * it, so every call failed with "invalid authorization header") and ASCII white space
 * around it (the trailing newline `echo` and editors leave). Only these, as the secrets
 * fingerprint strips them from the file's bytes. Undefined when nothing is left.
 */
export function keyText(stored: string | undefined): string | undefined {
  const text = stored?.replace(/^\uFEFF/, '').replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, '');
  return text === undefined || text === '' ? undefined : text;
}

/**
 * Looks a secret up. A file wins over the environment; each is read as keyText() has it, and
 * an empty value counts as missing. The reason for a miss names where it looked, never a
 * value.
 */
export function resolveSecret(ref: SecretRef, sources: SecretSources): SecretLookup {
  const looked: string[] = [];
  if (sources.secretsDir !== undefined && sources.secretsDir !== '') {
    const file = join(sources.secretsDir, ref.name, ref.key);
    looked.push(`file ${file}`);
    try {
      const value = keyText(readFileSync(file, 'utf8'));
      if (value !== undefined) return { found: true, secret: new Secret(value), from: 'file' };
      looked[looked.length - 1] += ' (empty)';
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') looked[looked.length - 1] += ` (${code})`;
    }
  }
  const variable = secretEnvVarName(ref);
  looked.push(`environment variable ${variable}`);
  const fromEnv = keyText(sources.env[variable]);
  if (fromEnv !== undefined) {
    return { found: true, secret: new Secret(fromEnv), from: 'env' };
  }
  return {
    found: false,
    reason: `secret "${ref.name}" key "${ref.key}" not found (looked in ${looked.join(', ')})`,
  };
}
