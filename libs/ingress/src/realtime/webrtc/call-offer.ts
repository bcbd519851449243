import {
  DataPlaneError,
  DataPlaneErrorCode,
  type JsonObject,
  type RealtimeCallOffer,
} from '@aigw/contracts/data-plane';
import { parseMultipartForm, type MultipartForm } from '../../forms/multipart-form';

/** What a `POST /v1/realtime/calls` body holds: the offer, and the model a form's session names. */
export interface CallRequest {
  readonly offer: RealtimeCallOffer;
  /** `session.model` of a form (a browser's bare SDP names none). */
  readonly model?: string;
}

function invalid(message: string, param: string): DataPlaneError {
  return new DataPlaneError(DataPlaneErrorCode.InvalidRequest, message, { param });
}

const SEND_AS =
  "Send the browser's SDP offer as the body with 'Content-Type: application/sdp', or as a " +
  "'multipart/form-data' form with 'sdp' (and optionally 'session')";

/** The SDP offer, checked as far as the gateway may: a session description (`v=0` first). */
function checkedSdp(sdp: string | undefined): string {
  if (sdp === undefined || sdp.trim() === '') throw invalid(`'sdp' is missing. ${SEND_AS}`, 'sdp');
  if (!sdp.trimStart().startsWith('v=0')) {
    throw invalid("'sdp' is not an SDP offer: a session description starts with 'v=0'", 'sdp');
  }
  return sdp;
}

/** A form's value: its field, or a part sent as a file (a Blob in a browser's FormData). */
function formValue(form: MultipartForm, name: string): string | undefined {
  const field = form.fields.find(([key]) => key === name);
  if (field) return field[1];
  const file = form.files.find((part) => part.field === name);
  return file && Buffer.from(file.data).toString('utf8');
}

/** The form's `session`: the configuration OpenAI takes there, a JSON object. */
function sessionOf(text: string | undefined): JsonObject | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  let session: unknown;
  try {
    session = JSON.parse(text);
  } catch {
    throw invalid("'session' must be the session configuration as a JSON object", 'session');
  }
  if (session === null || typeof session !== 'object' || Array.isArray(session)) {
    throw invalid("'session' must be the session configuration as a JSON object", 'session');
  }
  return session as JsonObject;
}

/**
 * The body of `POST /v1/realtime/calls` as OpenAI takes it: a browser's bare SDP
 * (`application/sdp`), or a server's form with `sdp` and `session`. Anything else, or an
 * offer that is no SDP, is a 400 naming the field.
 */
export function parseCallRequest(contentType: string | undefined, body: unknown): CallRequest {
  const bytes = Buffer.isBuffer(body) ? body : undefined;
  const media = contentType?.split(';')[0].trim().toLowerCase();
  if (media === 'application/sdp' || media === 'text/plain') {
    return { offer: { sdp: checkedSdp(bytes?.toString('utf8')) } };
  }
  if (media === 'multipart/form-data' && bytes) {
    const form = parseMultipartForm(bytes, contentType);
    const sdp = checkedSdp(formValue(form, 'sdp'));
    const session = sessionOf(formValue(form, 'session'));
    const model = typeof session?.model === 'string' && session.model ? session.model : undefined;
    return { offer: { sdp, ...(session ? { session } : {}) }, ...(model ? { model } : {}) };
  }
  throw invalid(`'sdp' is missing. ${SEND_AS}`, 'sdp');
}
