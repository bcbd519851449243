import type { Dispatcher } from 'undici';
import type { JsonObject, ProviderCall } from '@aigw/contracts/data-plane';
import { isJsonObject } from './json-shape';
import { sseMessages } from './sse-events';
import { streamEventObject } from './stream-event-json';
import { bodyChunks } from './upstream-body';
import { badResponse, streamFailure, streamInterrupted } from './upstream-http';

type ResponseBody = Dispatcher.ResponseData['body'];

/** Whether an event ends an image of a gpt-image stream (`image_generation.completed`, `image_edit.completed`). */
export function isCompletedImageEvent(event: JsonObject): boolean {
  return typeof event.type === 'string' && event.type.endsWith('.completed');
}

/**
 * The image output tokens OpenAI bills for each partial image a stream sends, beside the
 * completed image's own.
 */
export const PARTIAL_IMAGE_OUTPUT_TOKENS = 100;

/** Whether an event is a partial image (`image_generation.partial_image`, `image_edit.partial_image`). */
function isPartialImageEvent(event: JsonObject): boolean {
  return typeof event.type === 'string' && event.type.endsWith('.partial_image');
}

/**
 * What a finished image stream made, as the JSON path reads an answer: one image per
 * completed event, and the usage of the last one that reported any (OpenAI streams one
 * image, so one completed event carries the call's usage).
 */
export function streamedImagesAnswer(completed: readonly JsonObject[]): JsonObject {
  const reported = completed.findLast((event) => isJsonObject(event.usage));
  return {
    data: completed.map(() => ({})),
    ...(reported ? { usage: reported.usage } : {}),
  };
}

/**
 * A gpt-image stream (`stream: true`): OpenAI's events (`image_generation.partial_image`
 * or `image_edit.partial_image` with base64 and `partial_image_index`, then the
 * `*.completed` event with the image and the usage) relayed as they come. A body that is
 * not an event stream is a bad answer before any event (so the router fails over); a stream
 * that reports an error, or ends without a completed event, is interrupted. `settle` gets
 * the completed events seen and how many partial images went out, whatever happened.
 */
export async function* imageEvents(
  body: ResponseBody,
  contentType: string,
  call: ProviderCall,
  settle: (completed: readonly JsonObject[], partials: number) => void,
): AsyncGenerator<JsonObject> {
  const backend = call.target.backendName;
  const completed: JsonObject[] = [];
  let partials = 0;
  try {
    if (!contentType.includes('text/event-stream')) {
      // Drained, not destroyed: destroying it emits an error nobody listens for.
      await body.dump().catch(() => undefined);
      throw badResponse(backend, `${contentType || 'no content type'} to a stream request`);
    }
    for await (const message of sseMessages(bodyChunks(body))) {
      if (message.data === '[DONE]') break;
      const event = streamEventObject(backend, message.data);
      if (event.error || event.type === 'error') {
        throw streamInterrupted(backend, 'reported an error mid-stream');
      }
      if (isCompletedImageEvent(event)) completed.push(event);
      // Made at the backend, and billed there, whether or not the client stays to read it.
      else if (isPartialImageEvent(event)) partials++;
      yield event;
    }
    if (completed.length === 0) {
      throw streamInterrupted(backend, 'closed the stream before its image was completed');
    }
  } catch (error) {
    throw streamFailure(backend, error, call.signal);
  } finally {
    settle(completed, partials);
  }
}
