import { createHash, randomBytes } from 'node:crypto';

// The names the gateway gives Gemini files and uploads. A file's id fits Google's own
// form (up to 40 lowercase letters, digits and dashes), so SDKs that check names take it;
// it is random: who owns the file and which backend holds it are in the gateway's record.

const FILE_ID = /^aigw-[0-9a-f]{32}$/;
/** A file's id at the end of a `files/{id}` name or a URI's path (query or fragment aside). */
const FILE_ID_IN_URI = /(?:^|\/)files\/(aigw-[0-9a-f]{32})(?:[?#].*)?$/;

/** A new file id: `aigw-` and 128 random bits. */
export function newGeminiFileId(): string {
  return `aigw-${randomBytes(16).toString('hex')}`;
}

/** Whether `id` is a gateway file id (a look at anything else is a 404 with no store read). */
export function isGeminiFileId(id: string): boolean {
  return FILE_ID.test(id);
}

/**
 * The gateway file a `fileData.fileUri` names (the file's `uri` as the gateway gave it,
 * at whatever host the client reached it, or its `files/{id}` name); undefined otherwise.
 */
export function geminiFileIdIn(uri: string): string | undefined {
  return uri.length > 2_048 ? undefined : FILE_ID_IN_URI.exec(uri)?.[1];
}

/** A resumable upload's token: the capability its steps carry, as Google's upload_id is. */
export function newUploadToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The key an upload is kept under: a digest, so the store never holds the token itself. */
export function uploadRecordId(token: string): string {
  return `gemini-upload:${createHash('sha256').update(token).digest('hex')}`;
}
