import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type Upload,
} from '@aigw/contracts/data-plane';
import { MultipartForm } from '../forms/multipart-form';
import { MAX_IMAGES } from './image-request';

/** The largest image OpenAI makes variations of (a square PNG under 4 MB). */
export const MAX_VARIATION_IMAGE_BYTES = 4 * 1024 * 1024;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function invalid(message: string, param: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

/** A variation request as the data plane carries it: its text fields, and the one image. */
export interface ImageVariationParts {
  readonly body: JsonObject;
  readonly uploads: readonly Upload[];
}

/**
 * Reads an image variation form the way OpenAI does (dall-e-2): one PNG under 4 MB as
 * `image`, `n` of 1-10 (read as a number: the hold and the per-image bill count it),
 * `size` and `user` as text, `response_format` url or b64_json. Variations are never
 * streamed, so `stream` is a 400. Other text fields pass through.
 */
export function imageVariationParts(form: unknown): ImageVariationParts {
  if (!(form instanceof MultipartForm)) {
    throw invalid("Send the variation as 'multipart/form-data' with an 'image' part", 'image');
  }
  const body: JsonObject = {};
  for (const [name, value] of form.fields) {
    if (body[name] !== undefined) throw invalid(`'${name}' must be sent once`, name);
    body[name] = value;
  }
  if (typeof body.model !== 'string' || body.model === '') {
    throw invalid("'model' is required", 'model');
  }
  if (body.n !== undefined) {
    const n = Number(body.n);
    if (body.n === '' || !Number.isInteger(n) || n < 1 || n > MAX_IMAGES) {
      throw invalid(`'n' must be a whole number from 1 to ${MAX_IMAGES}`, 'n');
    }
    body.n = n;
  }
  const format = body.response_format;
  if (format !== undefined && format !== 'url' && format !== 'b64_json') {
    throw invalid("'response_format' must be 'url' or 'b64_json'", 'response_format');
  }
  if (body.stream === 'false') delete body.stream;
  if (body.stream !== undefined) throw invalid('Image variations are not streamed', 'stream');
  const [image, ...others] = form.files;
  if (image === undefined || image.field !== 'image') {
    throw invalid("Send the image to vary in the 'image' part", 'image');
  }
  if (others.length > 0) throw invalid("A variation takes one file, as 'image'", 'image');
  if (image.data.byteLength > MAX_VARIATION_IMAGE_BYTES) {
    throw invalid('The image must be a PNG under 4 MB', 'image');
  }
  if (!PNG_SIGNATURE.every((byte, at) => image.data[at] === byte)) {
    throw invalid('The image must be a PNG', 'image');
  }
  return { body, uploads: [{ ...image }] };
}
