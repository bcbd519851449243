import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type Upload,
} from '@aigw/contracts/data-plane';
import { MultipartForm } from '../forms/multipart-form';
import { checkedImageBody } from './image-request';

/** The most images gpt-image-1 edits together. */
export const MAX_EDIT_IMAGES = 16;

const IMAGE_FIELDS: ReadonlySet<string> = new Set(['image', 'image[]']);

function invalid(message: string, param: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

/** An image edit as the data plane carries it: its text fields, and the images (and mask). */
export interface ImageEditParts {
  readonly body: JsonObject;
  readonly uploads: readonly Upload[];
}

/**
 * Reads an image edit form the way OpenAI does: one image (dall-e-2), or up to 16 as
 * `image[]` (gpt-image-1), an optional `mask`, a prompt, and the generation's settings,
 * checked as a generation's (`n` read as a number, the hold and the bill count it). Other
 * text fields pass through.
 */
export function imageEditParts(form: unknown): ImageEditParts {
  if (!(form instanceof MultipartForm)) {
    throw invalid("Send the edit as 'multipart/form-data' with an 'image' part", 'image');
  }
  const body: JsonObject = {};
  for (const [name, value] of form.fields) {
    if (body[name] !== undefined) throw invalid(`'${name}' must be sent once`, name);
    body[name] = value;
  }
  // A form's counts and flag are text: read as the JSON body's, so one check serves both.
  for (const field of ['n', 'partial_images']) {
    if (body[field] === undefined) continue;
    const count = Number(body[field]);
    body[field] = body[field] === '' || !Number.isFinite(count) ? body[field] : count;
  }
  if (body.stream === 'false') delete body.stream;
  else if (body.stream === 'true') body.stream = true;
  if (typeof body.model !== 'string' || body.model === '') {
    throw invalid("'model' is required", 'model');
  }
  checkedImageBody(body);
  const images = form.files.filter((file) => IMAGE_FIELDS.has(file.field));
  const masks = form.files.filter((file) => file.field === 'mask');
  if (images.length === 0) throw invalid("Send the image to edit in the 'image' part", 'image');
  if (images.length > MAX_EDIT_IMAGES) {
    throw invalid(`Send at most ${MAX_EDIT_IMAGES} images`, 'image');
  }
  if (masks.length > 1) throw invalid("Send at most one 'mask'", 'mask');
  if (images.length + masks.length !== form.files.length) {
    throw invalid("An edit takes files only as 'image', 'image[]' and 'mask'", 'image');
  }
  if (form.files.some((file) => file.data.byteLength === 0)) {
    throw invalid('An image file is empty', 'image');
  }
  return { body, uploads: form.files.map((file) => ({ ...file })) };
}
