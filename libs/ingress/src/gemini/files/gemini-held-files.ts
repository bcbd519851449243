import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import type { GeminiFileCallers, GeminiFiles } from './gemini-files';

// A `fileData` part naming a file of the gateway's Files API goes through the canonical
// request in two steps: the translation marks it with the gateway's id (`gemini_file`),
// and once the caller is known it becomes the holding backend's own URI with that
// backend named (`held_by`), the call kept to it (`fallback: false`). The Gemini adapter
// sends such a part only to the backend it names.

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The canonical part of a gateway file as the client named it (not yet resolved). */
export function gatewayFilePart(id: string, mimeType: string): JsonObject {
  return { type: 'file', file: { gemini_file: id, mime_type: mimeType } };
}

/** The gateway file ids a canonical chat body names, or undefined when none (most calls). */
export function gatewayFileIdsIn(body: JsonObject): Set<string> | undefined {
  const messages = body.messages;
  if (!Array.isArray(messages)) return undefined;
  let ids: Set<string> | undefined;
  for (const message of messages) {
    if (!isObject(message) || !Array.isArray(message.content)) continue;
    for (const part of message.content) {
      const id = gatewayFileOf(part);
      if (id !== undefined) (ids ??= new Set()).add(id);
    }
  }
  return ids;
}

function gatewayFileOf(part: unknown): string | undefined {
  if (!isObject(part) || part.type !== 'file' || !isObject(part.file)) return undefined;
  const id = part.file.gemini_file;
  return typeof id === 'string' ? id : undefined;
}

/** The 400 of a file named where the Files API is not served. */
export function geminiFilesNotServed(): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    "fileData names a file of the gateway's Files API, which this deployment does not serve",
  );
}

/**
 * The request with each gateway file made into its backend's URI, and kept to that
 * backend: the caller's own files only (a 404 otherwise), held by the first backend of the
 * model called (a 400 otherwise), and no failover to another backend, which has no such file.
 */
export async function withHeldGeminiFiles(
  request: GatewayRequest,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  files: GeminiFiles,
  callers: Pick<GeminiFileCallers, 'ownerKeyFor'>,
): Promise<GatewayRequest> {
  const ids = gatewayFileIdsIn(request.body);
  if (!ids) return request;
  const held = await files.heldFiles(ids, request.requestedModel, headers, callers);
  // What the files may bill, each time one is named (it is sent, and billed, as often):
  // the body's estimate sees a URI, not the video or audio behind it.
  let heldFileTokens = 0;
  const messages = (request.body.messages as unknown[]).map((message) => {
    if (!isObject(message) || !Array.isArray(message.content)) return message;
    return {
      ...message,
      content: message.content.map((part: unknown) => {
        const id = gatewayFileOf(part);
        if (id === undefined) return part;
        const file = held.get(id)!;
        heldFileTokens += file.tokens;
        const asked = (part as { file: Json }).file.mime_type;
        return {
          type: 'file',
          file: {
            file_id: file.uri,
            mime_type: typeof asked === 'string' && asked !== '' ? asked : file.mimeType,
            held_by: { route: file.route, backend: file.backend },
          },
        };
      }),
    };
  });
  return {
    ...request,
    body: { ...request.body, messages },
    ...(heldFileTokens > 0 && { heldFileTokens: (request.heldFileTokens ?? 0) + heldFileTokens }),
    overrides: { ...request.overrides, fallback: false },
  };
}
