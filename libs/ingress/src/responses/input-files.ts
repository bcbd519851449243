import {
  DataPlaneError,
  DataPlaneErrorCode,
  type GatewayRequest,
  type JsonObject,
} from '@aigw/contracts/data-plane';
import type { FileInputs } from '../batches/file-inputs';
import type { Headers, Who } from '../batches/held-api';

/** What the Responses and chat edges need of the Files API: a gateway file id made usable. */
export type InputFileResolver = Pick<FileInputs, 'resolve'>;

/**
 * The request with every `file_id` of its chat body (this turn's input_file parts and
 * any brought back from earlier turns) made into what the serving backend takes: the
 * caller's own gateway file, by its backend's id or its content. A gateway id never
 * reaches a backend, nor does a provider's own id (it could name another tenant's file
 * at a shared backend account): both are refused with the part's parameter.
 */
export function withInputFiles(
  request: GatewayRequest,
  clientBody: unknown,
  headers: Headers,
  files: InputFileResolver,
  who: Who,
): GatewayRequest | Promise<GatewayRequest> {
  let params: Map<string, string> | undefined;
  const paramOf = (id: string) =>
    (params ??= fileIdParams(clientBody)).get(id) ?? earlierTurnsParam(clientBody);
  return withFileIds(request, paramOf, headers, files, who);
}

/**
 * The request with every `file_id` of its chat body's file parts made into what the
 * serving backend takes (FileInputs.resolve), each id resolved once; `paramOf` names
 * where the client sent it, for a refusal. Shared by the Responses and chat edges. A
 * request without one (most chat calls) comes back as it was, not as a promise.
 */
export function withFileIds(
  request: GatewayRequest,
  paramOf: (id: string) => string,
  headers: Headers,
  files: InputFileResolver,
  who: Who,
): GatewayRequest | Promise<GatewayRequest> {
  const messages = request.body.messages;
  const ids = Array.isArray(messages) ? fileIdsIn(messages) : undefined;
  if (!ids) return request;
  return swapFileIds(request, messages as unknown[], ids, paramOf, headers, files, who);
}

async function swapFileIds(
  request: GatewayRequest,
  messages: readonly unknown[],
  ids: ReadonlySet<string>,
  paramOf: (id: string) => string,
  headers: Headers,
  files: InputFileResolver,
  who: Who,
): Promise<GatewayRequest> {
  const resolved = new Map(
    await Promise.all(
      [...ids].map(
        async (id) =>
          [id, await files.resolve(id, paramOf(id), request.requestedModel, headers, who)] as const,
      ),
    ),
  );
  // What the files sent by id may bill, each time one is named (it is sent, and billed, as
  // often): the body's estimate sees an id, not the file.
  let heldFileTokens = 0;
  let heldFilePages = 0;
  const swapped = messages.map((message: unknown) => {
    if (!isObject(message) || !Array.isArray(message.content)) return message;
    return {
      ...message,
      content: message.content.map((part: unknown) => {
        const id = chatFileIdOf(part);
        if (id === undefined) return part;
        const file = resolved.get(id)!;
        heldFileTokens += file.heldTokens ?? 0;
        if (file.kind === 'id') heldFilePages += file.heldPages ?? 0;
        // The client's own name for the file, where it gave one, over the upload's.
        const sent = (part as { file: JsonObject }).file;
        return {
          ...(part as JsonObject),
          file: {
            ...file.file,
            ...(sent.filename !== undefined && { filename: sent.filename }),
          },
        };
      }),
    };
  });
  return {
    ...request,
    body: { ...request.body, messages: swapped },
    ...(heldFileTokens > 0 && { heldFileTokens }),
    ...(heldFilePages > 0 && { heldFilePages }),
  };
}

/** The ids a chat body's file parts name files by; undefined (nothing allocated) for none. */
export function fileIdsIn(messages: readonly unknown[]): Set<string> | undefined {
  let ids: Set<string> | undefined;
  for (const message of messages) {
    if (!isObject(message) || !Array.isArray(message.content)) continue;
    for (const part of message.content) {
      const id = chatFileIdOf(part);
      if (id !== undefined) (ids ??= new Set()).add(id);
    }
  }
  return ids;
}

/** The file id of a chat file part (`{type: 'file', file: {file_id}}`), if it names one. */
export function chatFileIdOf(part: unknown): string | undefined {
  if (!isObject(part) || part.type !== 'file' || !isObject(part.file)) return undefined;
  return typeof part.file.file_id === 'string' ? part.file.file_id : undefined;
}

/**
 * An edge without the Files API: no file id names a file of the caller's (a provider's own
 * id could name another tenant's file at a shared backend account), so one is refused.
 */
export function refuseFileIds(clientBody: unknown): void {
  const [param] = fileIdParams(clientBody).values();
  if (param !== undefined) throw fileIdsNotServed(param);
}

/** The refusal of a file id (at `param`) by an edge without the Files API. */
export function fileIdsNotServed(param: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `Invalid value for '${param}': this gateway does not serve the Files API, so no file id names a file of yours; send the file's content as 'file_data' (a data URL).`,
    { param },
  );
}

/** Where each file id first appears in the client's input: `input[0].content[1].file_id`. */
export function fileIdParams(clientBody: unknown): Map<string, string> {
  const params = new Map<string, string>();
  const input = isObject(clientBody) ? clientBody.input : undefined;
  if (!Array.isArray(input)) return params;
  input.forEach((item: unknown, i) => {
    if (!isObject(item) || !Array.isArray(item.content)) return;
    item.content.forEach((part: unknown, j) => {
      if (!isObject(part) || part.type !== 'input_file' || typeof part.file_id !== 'string') return;
      if (!params.has(part.file_id)) params.set(part.file_id, `input[${i}].content[${j}].file_id`);
    });
  });
  return params;
}

/** A file id only an earlier turn names: the parameter that brought that turn back. */
function earlierTurnsParam(clientBody: unknown): string {
  const body = isObject(clientBody) ? clientBody : {};
  if (body.conversation !== undefined && body.conversation !== null) return 'conversation';
  return 'previous_response_id';
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
