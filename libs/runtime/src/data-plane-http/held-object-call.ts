import type { Readable } from 'node:stream';
import {
  DataPlaneError,
  DataPlaneErrorCode,
  readHeldCallHeaders,
  type HeldCallHeaders,
  type UpstreamTarget,
} from '@aigw/contracts/data-plane';

/**
 * The Files and Batch APIs' calls across the split deployment: the ingress (which keeps
 * ids, owners and billing) asks the router, which relays to the provider-adapter, which
 * alone holds the backend's key and makes the call. This module is what crosses: the
 * routes, the call and its reply; each route's client and server parts live beside it
 * (held-object-wire: whole calls, held-object-open: streamed reads, held-object-upload:
 * streamed uploads).
 */
export const HELD_OBJECT_WIRE_PATH = '/wire/held-object';
/**
 * A GET whose 2xx answer streams back raw (a file's content, which may be gigabytes): the
 * backend's status and content-type in headers, its bytes as the HTTP body. An error
 * before the first byte is a wire error answer; after it, the connection is cut.
 */
export const HELD_OBJECT_OPEN_WIRE_PATH = '/wire/held-object/open';
/**
 * A POST whose body crosses the hops raw as it is made (a file upload, its lines checked
 * and rewritten by the ingress on the way): the call in a header, the form's bytes as the
 * HTTP body, the backend's 2xx answer back as a held-object wire reply. A body cut on the
 * way (a refused line) cuts each hop in turn, so the backend's upload is aborted too.
 */
export const HELD_OBJECT_UPLOAD_WIRE_PATH = '/wire/held-object/upload';

export type HeldObjectMethod = 'GET' | 'POST' | 'DELETE';

/** One backend call as it crosses the hops: which backend, and the request. */
export interface HeldObjectWireCall {
  readonly backendName: string;
  /**
   * The route whose backend holds the object: two routes may each have a backend of this
   * name, with their own URL and key. Absent from an older ingress (the name alone then).
   */
  readonly routeName?: string;
  readonly provider: string;
  readonly method: HeldObjectMethod;
  /**
   * A Files or Batch API path (`/files`, `/files/{id}/content`, `/batches/{id}/cancel`) or a
   * Message Batches API one (`/messages/batches/{id}/results`).
   */
  readonly path: string;
  readonly contentType?: string;
  readonly base64?: string;
  /**
   * The client's headers the backend is to see (a message batch's `anthropic-beta`); only
   * those HELD_CALL_HEADER_NAMES allows. An older adapter ignores them.
   */
  readonly headers?: HeldCallHeaders;
}

/** The backend's 2xx answer as it crosses back. */
export interface HeldObjectWireReply {
  readonly status: number;
  readonly contentType: string;
  readonly base64: string;
}

/** A backend's 2xx answer read whole. */
export interface HeldObjectAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

/** A 2xx answer whose body is read as it arrives; destroying the body ends the call. */
export interface HeldObjectStreamReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: Readable;
}

export interface HeldObjectBackendRef {
  readonly backendName: string;
  /** The route the backend is of (the held object's record names it). */
  readonly routeName?: string;
  readonly provider: string;
  readonly baseUrl?: string;
  readonly credential?: UpstreamTarget['credential'];
  readonly requestTimeoutMs: number;
}

export type HeldUploadBody = {
  readonly contentType: string;
  readonly data: AsyncIterable<Uint8Array>;
};

/** What the ingress's FilesAndBatches and the adapter's HeldObjectUpstream share. */
export interface HeldObjectSender {
  send(
    backend: HeldObjectBackendRef,
    method: HeldObjectMethod,
    path: string,
    body?: { readonly contentType: string; readonly data: Buffer },
    headers?: HeldCallHeaders,
  ): Promise<HeldObjectAnswer>;
  open(backend: HeldObjectBackendRef, path: string): Promise<HeldObjectStreamReply>;
  upload?(
    backend: HeldObjectBackendRef,
    path: string,
    body: HeldUploadBody,
  ): Promise<HeldObjectAnswer>;
}

/** The timeout a router allows a relayed call: the configured backend's, if it has it. */
export type RelayTimeout = (backendName: string, routeName?: string) => number | undefined;

/** The router's timeout for a relayed call: its backend's, or a refusal naming the backend. */
export function relayTimeoutFor(
  timeoutOf: RelayTimeout,
): (call: { readonly backendName: string; readonly routeName?: string }) => number {
  return (call) => {
    const timeoutMs = timeoutOf(call.backendName, call.routeName);
    if (timeoutMs === undefined) {
      throw new DataPlaneError(
        DataPlaneErrorCode.NoBackendAvailable,
        `the router's configuration has no backend "${call.backendName}"`,
      );
    }
    return timeoutMs;
  };
}

const METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'DELETE']);
/**
 * Only the Files and Batch APIs' own paths and Anthropic's Message Batches API's, no dot
 * segments: a peer reaches nothing else of a backend.
 */
const PATH = /^\/(files|batches|messages\/batches)(\/[A-Za-z0-9_-]{1,256}){0,2}$/;

export function malformedHeldCall(what: string): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `the held-object wire message has no valid ${what}`,
  );
}

/** Reads a call, refusing any other method or path. */
export function decodeHeldObjectCall(body: unknown): HeldObjectWireCall {
  const call = body as Partial<Record<keyof HeldObjectWireCall, unknown>> | null;
  if (typeof call !== 'object' || call === null) throw malformedHeldCall('body');
  const { backendName, routeName, provider, method, path, contentType, base64, headers } = call;
  if (typeof backendName !== 'string' || backendName === '') {
    throw malformedHeldCall('backendName');
  }
  if (routeName !== undefined && (typeof routeName !== 'string' || routeName === '')) {
    throw malformedHeldCall('routeName');
  }
  if (typeof provider !== 'string' || provider === '') throw malformedHeldCall('provider');
  if (typeof method !== 'string' || !METHODS.has(method)) throw malformedHeldCall('method');
  if (typeof path !== 'string' || !PATH.test(path)) throw malformedHeldCall('path');
  if (contentType !== undefined && typeof contentType !== 'string') {
    throw malformedHeldCall('contentType');
  }
  if (base64 !== undefined && typeof base64 !== 'string') throw malformedHeldCall('base64');
  let sentHeaders: HeldCallHeaders | undefined;
  try {
    sentHeaders = readHeldCallHeaders(headers);
  } catch {
    throw malformedHeldCall('headers');
  }
  return {
    backendName,
    // Only when named, so a call relayed to an older adapter reads as it always did.
    ...(routeName === undefined ? {} : { routeName }),
    provider,
    method: method as HeldObjectMethod,
    path,
    contentType,
    base64,
    // Only when sent, so a call without them reads as it always did.
    ...(sentHeaders === undefined ? {} : { headers: sentHeaders }),
  };
}

/** Which backend a call is for as it crosses: its name, its route's (when known), its provider. */
export function heldCallBackend(
  backend: HeldObjectBackendRef,
): Pick<HeldObjectWireCall, 'backendName' | 'routeName' | 'provider'> {
  return {
    backendName: backend.backendName,
    ...(backend.routeName === undefined ? {} : { routeName: backend.routeName }),
    provider: backend.provider,
  };
}

/** A backend's answer as the wire carries it back (its body as base64). */
export function encodedReply(answer: HeldObjectAnswer): HeldObjectWireReply {
  return {
    status: answer.status,
    contentType: answer.contentType,
    base64: answer.body.toString('base64'),
  };
}

/** A wire reply as the backend's answer (its body decoded). */
export function decodedReply(reply: HeldObjectWireReply): HeldObjectAnswer {
  return {
    status: reply.status,
    contentType: reply.contentType,
    body: Buffer.from(reply.base64, 'base64'),
  };
}
