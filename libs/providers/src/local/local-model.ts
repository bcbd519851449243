import { createHash } from 'node:crypto';
import { estimateTokens, type JsonObject } from '@aigw/contracts/data-plane';

// A built-in model so the quickstart answers with no API key and no network. Its
// replies are deterministic and say plainly what they are.

function lastUserText(body: JsonObject): string {
  const messages = Array.isArray(body.messages) ? (body.messages as JsonObject[]) : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    if (Array.isArray(message.content)) {
      return (message.content as JsonObject[])
        .map((part) => (typeof part.text === 'string' ? part.text : ''))
        .join(' ');
    }
  }
  return typeof body.prompt === 'string' ? body.prompt : '';
}

/** The reply text for a chat or completion request. */
export function localReply(body: JsonObject): string {
  const asked = lastUserText(body).replace(/\s+/g, ' ').trim();
  const quoted = asked.length > 160 ? `${asked.slice(0, 157)}...` : asked;
  const reply = quoted
    ? `You said: "${quoted}". This answer comes from the gateway's built-in local model; configure a provider API key to get answers from a real model.`
    : `Hello! This answer comes from the gateway's built-in local model; configure a provider API key to get answers from a real model.`;
  const maxTokens = Number(body.max_tokens ?? body.max_completion_tokens);
  if (!Number.isFinite(maxTokens) || maxTokens <= 0) return reply;
  // Like a real model, never produce more tokens than max_tokens allows.
  const words = reply.split(' ');
  while (words.length > 1 && estimateTokens(words.join(' ')) > maxTokens) words.pop();
  return words.join(' ');
}

/** A deterministic unit vector for a text: equal texts embed equally. */
export function localEmbedding(text: string, dimensions: number): number[] {
  const vector: number[] = [];
  let counter = 0;
  while (vector.length < dimensions) {
    const digest = createHash('sha256').update(`${counter++}:${text}`).digest();
    for (let i = 0; i + 1 < digest.length && vector.length < dimensions; i += 2) {
      vector.push(digest.readInt16BE(i) / 32768);
    }
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}
