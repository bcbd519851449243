import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CacheKeyComponent } from '@aigw/config';
import { canonicalJson, requestKey, type KeyedRequest } from './request-key';

const ALL: CacheKeyComponent[] = ['prompt', 'model', 'temperature', 'topP', 'stop', 'seed'];

function request(body: Record<string, unknown>, more: Partial<KeyedRequest> = {}): KeyedRequest {
  return {
    operation: 'chat',
    requestedModel: typeof body.model === 'string' ? body.model : 'gpt-4o',
    stream: body.stream === true,
    clientWantsStreamUsage: false,
    body,
    caller: { userKey: 'alice' },
    ...more,
  };
}

const base = {
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hello' },
  ],
  temperature: 0.2,
};
const key = (body: Record<string, unknown>, components = ALL, more?: Partial<KeyedRequest>) =>
  requestKey('cache', request(body, more), components);

describe('request key', () => {
  it('is a SHA-256 that ignores key order and JSON whitespace', () => {
    const reordered = JSON.parse(
      '{ "temperature" : 0.2, "messages": [ {"content": "Be brief.", "role": "system"},\n {"content":"Hello","role":"user"} ],\n "model":"gpt-4o" }',
    ) as Record<string, unknown>;
    assert.match(key(base), /^[0-9a-f]{64}$/);
    assert.equal(key(reordered), key(base));
  });

  it('treats same-meaning spellings alike', () => {
    assert.equal(key({ ...base, temperature: 0.2 }), key({ ...base, temperature: 2e-1 }));
    assert.equal(key({ ...base, seed: 0 }), key({ ...base, seed: -0 }));
    assert.equal(key({ ...base, stop: 'END' }), key({ ...base, stop: ['END'] }));
    assert.equal(key({ ...base, max_tokens: 10 }), key({ ...base, max_completion_tokens: 10 }));
    assert.equal(key({ ...base, top_p: null }), key(base));
    assert.equal(
      key({ ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }] }),
      key({ ...base, messages: [{ role: 'user', content: 'Hello' }] }),
    );
    // One string written two ways in JSON (an escape or the character) is one string.
    assert.equal(
      key(JSON.parse('{"model":"gpt-4o","messages":[{"role":"user","content":"caf\\u00e9"}]}')),
      key({ model: 'gpt-4o', messages: [{ role: 'user', content: 'caf\u00e9' }] }),
    );
    // Transport and bookkeeping fields never matter.
    assert.equal(key({ ...base, user: 'x', metadata: { a: 1 } }), key(base));
  });

  it("leaves out the provider prompt cache's hints and the safety identifier, which shape no answer", () => {
    const hints = {
      prompt_cache_key: 'codex-session-1',
      prompt_cache_retention: '24h',
      safety_identifier: 'user-hash-1',
    };
    assert.equal(key({ ...base, ...hints }), key(base));
    const other = { prompt_cache_key: 'codex-session-2', safety_identifier: 'user-hash-2' };
    assert.equal(key({ ...base, ...hints }), key({ ...base, ...other }));
    // A field the key does not know still counts, so nothing new is ever ignored.
    assert.notEqual(key({ ...base, ...hints, verbosity: 'low' }), key(base));
  });

  it('changes with the prompt, the system prompt, temperature, model, tools and answer shape', () => {
    const original = key(base);
    const variants: Record<string, unknown>[] = [
      { ...base, messages: [base.messages[0], { role: 'user', content: 'Hello!' }] },
      { ...base, messages: [{ role: 'system', content: 'Be long.' }, base.messages[1]] },
      { ...base, temperature: 0.3 },
      { ...base, model: 'gpt-4o-mini' },
      { ...base, tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] },
      { ...base, tool_choice: 'none' },
      { ...base, max_tokens: 5 },
      { ...base, response_format: { type: 'json_object' } },
      { ...base, n: 2 },
      { ...base, frequency_penalty: 0.5 },
      { ...base, stream: true },
    ];
    const keys = new Set(variants.map((variant) => key(variant)));
    assert.equal(keys.size, variants.length);
    assert.ok(!keys.has(original));
    assert.notEqual(key(base, ALL, { operation: 'completions' }), original);
    assert.notEqual(
      key({ ...base, stream: true }, ALL, { clientWantsStreamUsage: true }),
      key({ ...base, stream: true }),
    );
  });

  it('leaves out what keyComponents does not list, but never the answer-shaping fields', () => {
    const promptAndModel: CacheKeyComponent[] = ['prompt', 'model'];
    assert.equal(
      key({ ...base, temperature: 0.9 }, promptAndModel),
      key({ ...base, temperature: 0.1 }, promptAndModel),
    );
    assert.notEqual(key({ ...base, max_tokens: 1 }, promptAndModel), key(base, promptAndModel));
    assert.notEqual(key({ ...base, model: 'other' }, ['prompt']), key(base, ['prompt']));
    // Without `prompt`, the system prompt still counts and the user turn does not.
    const noPrompt: CacheKeyComponent[] = ['model'];
    assert.equal(
      key({ ...base, messages: [base.messages[0], { role: 'user', content: 'Other' }] }, noPrompt),
      key(base, noPrompt),
    );
    assert.notEqual(
      key({ ...base, messages: [{ role: 'system', content: 'x' }, base.messages[1]] }, noPrompt),
      key(base, noPrompt),
    );
  });

  it('keeps stop sequences in the key even when `stop` is not listed: they cut the answer', () => {
    // As max_tokens does: an answer made without the client's stop sequence may run past it,
    // an answer no provider would give that client (keyComponents cannot share it).
    const promptAndModel: CacheKeyComponent[] = ['prompt', 'model', 'temperature'];
    assert.notEqual(key({ ...base, stop: ['\n'] }, promptAndModel), key(base, promptAndModel));
    assert.notEqual(
      key({ ...base, stop: ['\n'] }, promptAndModel),
      key({ ...base, stop: ['END'] }, promptAndModel),
    );
    assert.equal(
      key({ ...base, stop: 'END' }, promptAndModel),
      key({ ...base, stop: ['END'] }, promptAndModel),
    );
  });

  it('keeps strings the provider receives apart, Unicode normalization forms included', () => {
    // The provider gets the text as sent: 'cafe' + a combining accent is five code points
    // to it, 'café' four, and a question about either (or one asking to repeat it) has
    // its own answer.
    assert.notEqual(
      key({ ...base, messages: [{ role: 'user', content: 'cafe\u0301' }] }),
      key({ ...base, messages: [{ role: 'user', content: 'caf\u00e9' }] }),
    );
    // Hangul as decomposed jamo (as macOS file names carry it) and as syllables.
    assert.notEqual(
      key({ ...base, messages: [{ role: 'user', content: '\u1112\u1161\u11ab' }] }),
      key({ ...base, messages: [{ role: 'user', content: '\ud55c' }] }),
    );
  });

  it('separates users only when `user` is a component', () => {
    const bob = { caller: { userKey: 'bob' } };
    assert.equal(key(base, ALL, bob), key(base));
    assert.notEqual(key(base, [...ALL, 'user'], bob), key(base, [...ALL, 'user']));
  });

  it('separates one user id identified two ways, keeping keys of one identification as they were', () => {
    const user: CacheKeyComponent[] = [...ALL, 'user'];
    const as = (budgetKey: string) => ({ caller: { userKey: 'alice', budgetKey } });
    // Two JWT providers' `alice` on one route: two users, two budgets, two cache entries.
    const corp = key(base, user, as('jwt:corp:sub:alice'));
    assert.notEqual(corp, key(base, user, as('jwt:partner:sub:alice')));
    assert.notEqual(corp, key(base, user));
    // `user` not a component: shared, as between any two users.
    assert.equal(key(base, ALL, as('jwt:corp:sub:alice')), key(base));
    // No budget key (users identified one way): the key entries were stored under before.
    assert.equal(
      key(base, user),
      'e52c523beed13573a0dd8357be226a3c008c557e3db21f8044a822a0463dc83c',
    );
  });

  it('changes with the forwarded anthropic-beta header, whatever the order of its betas', () => {
    const beta = (value: string) => ({ forwardHeaders: { 'anthropic-beta': value } });
    const thinking = key(base, ALL, beta('interleaved-thinking-2025-05-14'));
    assert.notEqual(thinking, key(base), 'a beta feature changes the answer');
    assert.notEqual(thinking, key(base, ALL, beta('token-efficient-tools-2025-02-19')));
    assert.equal(
      key(base, ALL, beta('a-1, interleaved-thinking-2025-05-14')),
      key(base, ALL, beta('interleaved-thinking-2025-05-14,a-1')),
    );
    // Other forwarded headers (user-agent, traceparent) never split entries.
    assert.equal(key(base, ALL, { forwardHeaders: { 'user-agent': 'x/1' } }), key(base));
  });

  it('separates scopes', () => {
    assert.notEqual(requestKey('a', request(base), ALL), requestKey('b', request(base), ALL));
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops null members', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: null, c: [2, { z: 1, y: 0 }] } }),
      '{"a":{"c":[2,{"y":0,"z":1}]},"b":1}',
    );
  });
});
