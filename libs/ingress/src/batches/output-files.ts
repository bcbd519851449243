import type { JsonObject } from '@aigw/contracts/data-plane';
import { enc, jsonOf } from './held-api';
import type { HeldRecord } from './held-objects';
import type { HeldRecords } from './held-records';

/** What OpenAI's file object requires (SDKs that validate a list break without them). */
const REQUIRED_FILE_FIELDS = ['id', 'object', 'bytes', 'created_at', 'filename', 'purpose'];

/** At most this many batch output files are retrieved from their backend per list. */
export const OUTPUT_FILES_RETRIEVED_PER_LIST = 10;

/** Whether a batch's output or error file object still lacks a field OpenAI requires. */
export function lacksFileFields(object: JsonObject): boolean {
  return (
    REQUIRED_FILE_FIELDS.some((field) => object[field] === undefined || object[field] === null) ||
    typeof object.status !== 'string'
  );
}

/**
 * A batch's output or error file as the client sees it: the backend's file object (when
 * it answered) under the gateway id, and what it left out filled from what the gateway
 * knows (created when first seen, processed: the batch wrote it), 0 bytes only when the
 * backend never said.
 */
export function outputFileObject(
  record: Pick<HeldRecord, 'id' | 'providerId' | 'createdAt'>,
  described: JsonObject | undefined,
): JsonObject {
  const from = described ?? {};
  const number = (value: unknown, fallback: number) =>
    typeof value === 'number' && Number.isFinite(value) ? value : fallback;
  const text = (value: unknown, fallback: string) =>
    typeof value === 'string' && value !== '' ? value : fallback;
  return {
    ...from,
    id: record.id,
    object: 'file',
    bytes: number(from.bytes, 0),
    created_at: number(from.created_at, Math.floor(record.createdAt / 1000)),
    filename: text(from.filename, `${record.providerId}.jsonl`),
    purpose: text(from.purpose, 'batch_output'),
    status: text(from.status, 'processed'),
  };
}

/** The backend's file object for `providerId`, asked where `holder` is held; undefined on failure. */
export async function describedFile(
  records: HeldRecords,
  holder: HeldRecord,
  providerId: string,
  onError?: (what: string, error: unknown) => void,
): Promise<JsonObject | undefined> {
  try {
    return jsonOf(await records.call(holder, 'GET', `/files/${enc(providerId)}`));
  } catch (error) {
    onError?.("retrieving a batch output file's object", error);
    return undefined;
  }
}
