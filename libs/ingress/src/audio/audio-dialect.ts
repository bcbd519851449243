import type { EdgeDialect } from '../http/edge-exchange';
import { OPENAI_DIALECT } from '../http/openai-dialect';
import { sendOpenAiError } from '../http/openai-errors';
import { audioRequestParts } from './audio-form';

/**
 * OpenAI's audio endpoints: a multipart form in (its text fields become the body the
 * data plane carries, its file the request's upload), the backend's answer out as it
 * came: JSON, or text, srt or vtt as the media type the backend gave.
 */
export const AUDIO_DIALECT: EdgeDialect = {
  canonicalBody: (form) => audioRequestParts(form).body,
  withState: (request, form) => ({ ...request, uploads: audioRequestParts(form).uploads }),
  answerBody: (answer) => (answer.mediaType === undefined ? answer.body : answer.body.text),
  // A streamed transcript: OpenAI's events as server-sent events, as for chat.
  openStream: (response, headers, request, clientBody) =>
    OPENAI_DIALECT.openStream(response, headers, request, clientBody),
  sendError: sendOpenAiError,
};
