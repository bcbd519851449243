// Sending one case to the gateway, and what its answer must be: an error in the API's
// own shape, no provider key, a stream that ends finished or with its error event.
import assert from 'node:assert/strict';
import type { AppProcess } from '@aigw/testing/processes';
import type { Attempt, Endpoint, Format } from './bad-requests';

/** Longer than any answer here should take: past it a request counts as a hang. */
export const HANG_MS = 8_000;

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly raw: Buffer;
  readonly text: string;
}

export async function send(
  gateway: AppProcess,
  attempt: Attempt,
  describeIt: string,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (attempt.contentType !== undefined) headers['content-type'] = attempt.contentType;
  Object.assign(headers, attempt.headers);
  let response: Response;
  try {
    response = await fetch(`${gateway.baseUrl}${attempt.path}`, {
      method: attempt.method,
      headers,
      body: attempt.body,
      signal: AbortSignal.timeout(HANG_MS),
    });
    const raw = Buffer.from(await response.arrayBuffer());
    return { status: response.status, headers: response.headers, raw, text: raw.toString('utf8') };
  } catch (error) {
    assert.fail(`${describeIt}: no complete answer (${String(error)})`);
  }
}

export function parsed(text: string, describeIt: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    assert.ok(value !== null && typeof value === 'object', `${describeIt}: not an object`);
    return value as Record<string, unknown>;
  } catch (error) {
    assert.fail(`${describeIt}: error body is not JSON (${String(error)}): ${text.slice(0, 300)}`);
  }
}

/** Asserts `body` is an error in the API's own shape for `status`. */
export function assertErrorShape(format: Format, status: number, text: string, describeIt: string) {
  const body = parsed(text, describeIt);
  const error = body.error as Record<string, unknown> | undefined;
  const shown = `${describeIt}: ${text.slice(0, 300)}`;
  assert.ok(error && typeof error === 'object', `no error object: ${shown}`);
  assert.equal(typeof error.message, 'string', `error.message: ${shown}`);
  assert.ok((error.message as string).length > 0, `empty error.message: ${shown}`);
  switch (format) {
    case 'openai':
      assert.equal(typeof error.type, 'string', `error.type: ${shown}`);
      assert.ok((error.type as string).length > 0, `empty error.type: ${shown}`);
      break;
    case 'anthropic':
      assert.equal(body.type, 'error', `type: ${shown}`);
      assert.equal(typeof error.type, 'string', `error.type: ${shown}`);
      break;
    case 'gemini':
      assert.equal(error.code, status, `error.code: ${shown}`);
      assert.equal(typeof error.status, 'string', `error.status: ${shown}`);
      assert.match(error.status as string, /^[A-Z_]+$/, `error.status: ${shown}`);
      break;
  }
}

export function assertNoSecret(
  answer: Answer,
  describeIt: string,
  secrets: readonly string[],
): void {
  const headers = JSON.stringify([...answer.headers.entries()]);
  for (const secret of secrets) {
    assert.ok(!answer.text.includes(secret), `${describeIt}: the body echoes a provider key`);
    assert.ok(!headers.includes(secret), `${describeIt}: a header echoes a provider key`);
  }
}

export function describeAttempt(
  endpoint: Endpoint,
  attempt: Attempt,
  index: number,
  seed: number,
): string {
  const body = attempt.body?.toString('utf8') ?? '';
  const shown = body.length > 240 ? `${body.slice(0, 240)}… (${body.length} bytes)` : body;
  return (
    `[FUZZ_SEED=${seed} case ${index}] ${attempt.method} ${attempt.path} (${endpoint.name}) ` +
    `content-type=${attempt.contentType} mutation=${attempt.mutation} body=${shown}`
  );
}

/** Asserts a 200 JSON answer is one the endpoint's clients can read. */
export function assertReadable(endpoint: Endpoint, text: string, shown: string): void {
  const body = parsed(text, shown);
  switch (endpoint.name) {
    case 'chat': {
      const choices = body.choices as Record<string, unknown>[];
      assert.ok(Array.isArray(choices), `choices: ${shown}`);
      for (const choice of choices) {
        const message = choice.message as Record<string, unknown> | null;
        assert.ok(message !== null && typeof message === 'object', `message: ${shown}`);
        const content = message.content;
        assert.ok(
          content === null ||
            content === undefined ||
            typeof content === 'string' ||
            Array.isArray(content),
          `content: ${shown}`,
        );
      }
      break;
    }
    case 'completions':
      assert.ok(Array.isArray(body.choices), `choices: ${shown}`);
      for (const choice of body.choices as Record<string, unknown>[]) {
        assert.equal(typeof choice.text, 'string', `text: ${shown}`);
      }
      break;
    case 'embeddings':
      assert.ok(Array.isArray(body.data), `data: ${shown}`);
      break;
    case 'responses':
      assert.equal(body.object, 'response', shown);
      assert.ok(Array.isArray(body.output), `output: ${shown}`);
      break;
    case 'messages':
      assert.equal(body.type, 'message', shown);
      assert.ok(Array.isArray(body.content), `content: ${shown}`);
      for (const block of body.content as Record<string, unknown>[]) {
        assert.equal(typeof block.type, 'string', `block type: ${shown}`);
        if (block.type === 'text') assert.equal(typeof block.text, 'string', `text: ${shown}`);
      }
      break;
    default:
      assert.ok(Array.isArray(body.candidates), `candidates: ${shown}`);
      for (const candidate of body.candidates as Record<string, unknown>[]) {
        const content = candidate.content as Record<string, unknown> | undefined;
        if (content !== undefined) assert.ok(Array.isArray(content.parts), `parts: ${shown}`);
      }
  }
}

/** Whether a 200 event stream ended the way a finished answer does, with no error in it. */
export function looksFinished(format: Format, path: string, text: string): boolean {
  if (path.includes('/responses')) {
    return /^event: response\.completed$/m.test(text) && !hasErrorEvent(format, path, text);
  }
  switch (format) {
    case 'openai':
      return text.trimEnd().endsWith('data: [DONE]') && !/^data: \{"error"/m.test(text);
    case 'anthropic':
      return /^event: message_stop$/m.test(text) && !/^event: error$/m.test(text);
    case 'gemini':
      return /"finishReason"/.test(text) && !/"error"\s*:/.test(text);
  }
}

/** Whether a 200 event stream carries the API's explicit error event. */
export function hasErrorEvent(format: Format, path: string, text: string): boolean {
  if (path.includes('/responses')) return /^event: (response\.failed|error)$/m.test(text);
  switch (format) {
    case 'openai':
      return /^data: \{"error":\{/m.test(text);
    case 'anthropic':
      return /^event: error$/m.test(text);
    case 'gemini':
      return /"error"\s*:\s*\{"code":[45]\d\d/.test(text);
  }
}
