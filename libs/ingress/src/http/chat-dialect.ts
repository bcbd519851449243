import type { IngressPipeline } from '../ingress-pipeline';
import {
  chatFileIdOf,
  fileIdsIn,
  fileIdsNotServed,
  withFileIds,
  type InputFileResolver,
} from '../responses/input-files';
import { refuseBackendDataSources } from './backend-data-sources';
import type { EdgeDialect } from './edge-exchange';
import { OPENAI_DIALECT } from './openai-dialect';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Chat completions: OpenAI's format, as every OpenAI-format endpoint, except for a file
 * part's `file_id`, which is never passed on as sent (a gateway id means nothing to a
 * backend; a provider's own id could name another tenant's file at a shared backend
 * account). With `files` (the Files API) it is the caller's gateway file, identified as
 * reading it is (by its model's route), made into what the serving backend takes, as
 * the Responses API's input_file is; without, any `file_id` is refused. Azure's
 * `data_sources` are refused either way (backend-data-sources).
 */
export function chatDialect(served?: {
  files: InputFileResolver;
  callers: Pick<IngressPipeline, 'ownerKeyFor'>;
}): EdgeDialect {
  if (!served) {
    return {
      ...OPENAI_DIALECT,
      canonicalBody: (body) => {
        refuseBackendDataSources(body);
        // A call without file ids allocates nothing; where one is is looked up to refuse it.
        const messages = isObject(body) ? body.messages : undefined;
        if (Array.isArray(messages) && fileIdsIn(messages)) {
          const [param] = chatFileIdParams(body).values();
          throw fileIdsNotServed(param);
        }
        return body;
      },
    };
  }
  const { files, callers } = served;
  const who = (model: string, headers: Parameters<IngressPipeline['ownerKeyFor']>[1]) =>
    callers.ownerKeyFor(model, headers);
  return {
    ...OPENAI_DIALECT,
    canonicalBody: (body) => {
      refuseBackendDataSources(body);
      return body;
    },
    withState: (request, clientBody, headers) => {
      let params: Map<string, string> | undefined;
      // Every id comes from the client's own messages; 'messages' only were one not found.
      const paramOf = (id: string) =>
        (params ??= chatFileIdParams(clientBody)).get(id) ?? 'messages';
      return withFileIds(request, paramOf, headers, files, who);
    },
  };
}

/** Where each file id first appears in a chat body: `messages[0].content[1].file.file_id`. */
export function chatFileIdParams(body: unknown): Map<string, string> {
  const params = new Map<string, string>();
  const messages = isObject(body) ? body.messages : undefined;
  if (!Array.isArray(messages)) return params;
  messages.forEach((message: unknown, i) => {
    if (!isObject(message) || !Array.isArray(message.content)) return;
    message.content.forEach((part: unknown, j) => {
      const id = chatFileIdOf(part);
      if (id !== undefined && !params.has(id)) {
        params.set(id, `messages[${i}].content[${j}].file.file_id`);
      }
    });
  });
  return params;
}
