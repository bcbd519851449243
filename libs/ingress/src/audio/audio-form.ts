import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type Upload,
} from '@aigw/contracts/data-plane';
import { MultipartForm } from '../forms/multipart-form';

/** What OpenAI's transcription and translation endpoints answer in. */
export const AUDIO_RESPONSE_FORMATS: ReadonlySet<string> = new Set([
  'json',
  'text',
  'srt',
  'verbose_json',
  'vtt',
  'diarized_json',
]);

const GRANULARITIES: ReadonlySet<string> = new Set(['word', 'segment']);

function invalid(message: string, param?: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

/** An audio request as the data plane carries it: its text fields, and the file. */
export interface AudioRequestParts {
  /**
   * The form's text fields by name as sent (`timestamp_granularities[]` keeps its
   * brackets), a repeated one as a list, so an adapter writes the same form back out.
   */
  readonly body: JsonObject;
  readonly uploads: readonly Upload[];
}

/**
 * Reads and checks a transcription or translation form the way OpenAI does: one `file`,
 * a `model`, and the settings the gateway reads itself (format, temperature,
 * granularities). Other fields pass through to the backend untouched; `stream` becomes a
 * boolean, so the request is a stream.
 */
export function audioRequestParts(form: unknown): AudioRequestParts {
  if (!(form instanceof MultipartForm)) {
    throw invalid("Send the audio as 'multipart/form-data' with a 'file' part", 'file');
  }
  const body: JsonObject = {};
  for (const [name, value] of form.fields) {
    const known = body[name];
    body[name] = known === undefined ? value : [...[known as string | string[]].flat(), value];
  }
  for (const name of ['model', 'prompt', 'language', 'response_format', 'temperature']) {
    if (Array.isArray(body[name])) throw invalid(`'${name}' must be sent once`, name);
  }
  if (typeof body.model !== 'string' || body.model === '') {
    throw invalid("'model' is required", 'model');
  }
  const format = body.response_format;
  if (format !== undefined && !AUDIO_RESPONSE_FORMATS.has(format as string)) {
    throw invalid(
      `'response_format' must be one of ${[...AUDIO_RESPONSE_FORMATS].join(', ')}`,
      'response_format',
    );
  }
  const temperature = body.temperature;
  if (temperature !== undefined) {
    const value = Number(temperature);
    if (temperature === '' || !Number.isFinite(value) || value < 0 || value > 1) {
      throw invalid("'temperature' must be a number from 0 to 1", 'temperature');
    }
  }
  const granularities = [body['timestamp_granularities[]'] ?? []].flat();
  if (!granularities.every((g) => GRANULARITIES.has(g as string))) {
    throw invalid(
      "'timestamp_granularities[]' takes 'word' and 'segment'",
      'timestamp_granularities',
    );
  }
  if (granularities.length > 0 && format !== 'verbose_json') {
    throw invalid(
      "'timestamp_granularities[]' needs response_format 'verbose_json'",
      'timestamp_granularities',
    );
  }
  // A stream (gpt-4o-transcribe's events) is asked for as the data plane asks: a boolean.
  const stream = body.stream;
  if (stream !== undefined && stream !== 'true' && stream !== 'false') {
    throw invalid("'stream' must be true or false", 'stream');
  }
  if (stream === 'true') body.stream = true;
  else delete body.stream;
  const files = form.files.filter((file) => file.field === 'file');
  if (files.length !== 1 || form.files.length !== 1) {
    throw invalid("Send exactly one audio file, in the 'file' part", 'file');
  }
  const [file] = files;
  if (file.data.byteLength === 0) throw invalid('The audio file is empty', 'file');
  return { body, uploads: [{ ...file }] };
}
