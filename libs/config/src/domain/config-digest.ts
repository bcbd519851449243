// The digest of a config file's text: what tells a watcher whether the file on disk is the
// one in force, and what an operator compares (`sha256sum`) to see which file a process
// runs. Of the text only: keys read through apiKeyRef are not in it.
import { createHash } from 'node:crypto';

/** Hex SHA-256 of the config text, as `sha256sum` prints it for the file. */
export function configTextDigest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
