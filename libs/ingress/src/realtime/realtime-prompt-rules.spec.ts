import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type WebSocket from 'ws';
import type { RealtimeFrame } from '@aigw/contracts/data-plane';
import { IBAN, promptRulesPipeline, SSN } from '../domain/prompt-rules-fixture';
import {
  chatPromptRules,
  realtimePromptTexts,
  screenRealtimeEvent,
  type PromptRules,
} from './realtime-prompt-rules';
import { RealtimeSession, type RealtimeSessionOptions } from './realtime-session';
import { NOOP_REALTIME_OBSERVER } from './realtime-telemetry';

const EMAIL = 'jane.doe@example.com';
const MASK = '[REDACTED:email]';

const refusedRealtimeEvent = (frame: RealtimeFrame, rules: PromptRules) =>
  screenRealtimeEvent(frame, rules).refusal;

const userText = (text: string, id = 'evt_1') =>
  JSON.stringify({
    type: 'conversation.item.create',
    event_id: id,
    item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
  });

/**
 * A session with a fake client attached: `client.sent` holds what the client was sent,
 * `upstream` what reached the backend.
 */
function attachedSession(options: RealtimeSessionOptions) {
  const upstream: RealtimeFrame[] = [];
  const session = new RealtimeSession(options);
  const client = Object.assign(new EventEmitter(), {
    readyState: 1,
    bufferedAmount: 0,
    sent: [] as RealtimeFrame[],
    send(frame: RealtimeFrame) {
      this.sent.push(frame);
    },
    ping: () => undefined,
    close: () => undefined,
  });
  session.attach(client as unknown as WebSocket, {
    servedBy: { backend: 'b', provider: 'openai', model: 'm' },
    send: (frame) => upstream.push(frame),
    close: () => undefined,
  });
  return { client, upstream };
}

describe('realtime prompt rules', () => {
  it('reads the text a client event hands the model, and nothing of audio frames', () => {
    assert.deepEqual(realtimePromptTexts(userText('hello there')), [
      { text: 'hello there', param: 'item' },
    ]);
    assert.deepEqual(
      realtimePromptTexts(
        JSON.stringify({
          type: 'conversation.item.create',
          item: { type: 'function_call_output', call_id: 'c1', output: '{"ok":true}' },
        }),
      ),
      [{ text: '{"ok":true}', param: 'item' }],
    );
    assert.deepEqual(
      realtimePromptTexts(
        JSON.stringify({ type: 'session.update', session: { instructions: 'Be brief' } }),
      ),
      [{ text: 'Be brief', param: 'session.instructions' }],
    );
    assert.deepEqual(
      realtimePromptTexts(
        JSON.stringify({
          type: 'response.create',
          response: {
            instructions: 'Summarise',
            input: [
              { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'x' }] },
            ],
          },
        }),
      ),
      [
        { text: 'Summarise', param: 'response.instructions' },
        { text: 'x', param: 'response.input' },
      ],
    );
    // Escaped, it is the same event to the backend.
    assert.deepEqual(
      realtimePromptTexts(userText('hi').replace('item.create', 'item\\u002ecreate')),
      [{ text: 'hi', param: 'item' }],
    );
    assert.deepEqual(
      realtimePromptTexts('{"type":"input_audio_buffer.append","audio":"AAAA/w=="}'),
      [],
    );
    assert.deepEqual(realtimePromptTexts(new Uint8Array([1, 2, 3])), []);
  });

  it('refuses an event whose text a block pattern or a block detector matches, naming the field and event', () => {
    const screen = chatPromptRules(promptRulesPipeline(), 'private');
    const refused = refusedRealtimeEvent(userText(`my ssn is ${SSN}`, 'evt_42'), screen);
    assert.ok(refused);
    assert.equal(refused.param, 'item');
    assert.equal(refused.eventId, 'evt_42');
    assert.match(refused.error.message, /blockPatterns\[0\]/);
    assert.ok(!refused.error.message.includes(SSN));

    const instructions = JSON.stringify({
      type: 'session.update',
      session: { instructions: `pay to ${IBAN}` },
    });
    assert.equal(refusedRealtimeEvent(instructions, screen)?.param, 'session.instructions');
    assert.equal(refusedRealtimeEvent(userText('fine'), screen), undefined);
    // Rules off: nothing refused.
    const off = chatPromptRules(promptRulesPipeline(false), 'private');
    assert.equal(refusedRealtimeEvent(userText(`my ssn is ${SSN}`), off), undefined);
  });

  it('masks a redact detector in every text field, the event otherwise as it came; counted under the route', () => {
    const reported: string[] = [];
    const rules = chatPromptRules(promptRulesPipeline(), 'private', (route, tally) =>
      reported.push(`${route}: ${[...tally].map(([name, n]) => `${name}=${n}`).join(',')}`),
    );
    const masked = (event: object) => {
      const screened = screenRealtimeEvent(JSON.stringify(event), rules);
      assert.equal(screened.refusal, undefined);
      assert.ok(!String(screened.frame).includes(EMAIL), String(screened.frame));
      return JSON.parse(String(screened.frame)) as unknown;
    };

    const audio = { type: 'input_audio', audio: 'AAAA', transcript: 'x' };
    assert.deepEqual(
      masked({
        type: 'conversation.item.create',
        event_id: 'evt_1',
        previous_item_id: null,
        item: {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: `mail ${EMAIL} now` }, audio],
        },
      }),
      {
        type: 'conversation.item.create',
        event_id: 'evt_1',
        previous_item_id: null,
        item: {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: `mail ${MASK} now` }, audio],
        },
      },
    );
    assert.deepEqual(
      masked({
        type: 'conversation.item.create',
        item: { type: 'function_call_output', call_id: 'c1', output: `{"to":"${EMAIL}"}` },
      }),
      {
        type: 'conversation.item.create',
        item: { type: 'function_call_output', call_id: 'c1', output: `{"to":"${MASK}"}` },
      },
    );
    // A call's arguments are JSON: masked value by value, as chat's tool calls are.
    const call = masked({
      type: 'conversation.item.create',
      item: {
        type: 'function_call',
        call_id: 'c2',
        name: 'send',
        arguments: `{"to": "${EMAIL}", "n": 4}`,
      },
    }) as { item: { arguments: string; name: string } };
    assert.deepEqual(JSON.parse(call.item.arguments), { to: MASK, n: 4 });
    assert.equal(call.item.name, 'send');

    // Tool definitions are the developer's, left as they are, as a chat request's tools are.
    const tools = [
      { type: 'function', name: 'send', description: `mails ${EMAIL}`, parameters: {} },
    ];
    const update = screenRealtimeEvent(
      JSON.stringify({ type: 'session.update', session: { instructions: `cc ${EMAIL}`, tools } }),
      rules,
    );
    assert.deepEqual(JSON.parse(String(update.frame)), {
      type: 'session.update',
      session: { instructions: `cc ${MASK}`, tools },
    });
    assert.deepEqual(
      masked({
        type: 'response.create',
        response: {
          instructions: `reply to ${EMAIL}`,
          input: [
            { type: 'message', role: 'user', content: [{ type: 'input_text', text: EMAIL }] },
          ],
        },
      }),
      {
        type: 'response.create',
        response: {
          instructions: `reply to ${MASK}`,
          input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: MASK }] }],
        },
      },
    );
    assert.deepEqual(reported, [
      'private: email=1',
      'private: email=1',
      'private: email=1',
      'private: email=1',
      'private: email=1',
      'private: email=1',
    ]);

    // Nothing masked: the client's own bytes, spacing and escapes included; audio unparsed.
    const asSent =
      '{"type":"conversation.item.create", "item":{"type":"message","role":"user","content":[{"type":"input_text","text":"caf\\u00e9"}]}}';
    assert.equal(screenRealtimeEvent(asSent, rules).frame, asSent);
    const append = `{"type":"input_audio_buffer.append","audio":"${EMAIL}"}`;
    assert.equal(screenRealtimeEvent(append, rules).frame, append);
    // Rules off: sent as written.
    const off = chatPromptRules(promptRulesPipeline(false), 'private');
    const plain = userText(`mail ${EMAIL}`);
    assert.equal(screenRealtimeEvent(plain, off).frame, plain);
  });

  it('a masked event reaches the backend masked', () => {
    const { client, upstream } = attachedSession({
      observer: NOOP_REALTIME_OBSERVER,
      fields: {},
      promptRules: (frame) =>
        screenRealtimeEvent(frame, chatPromptRules(promptRulesPipeline(), 'private')),
      pingIntervalMs: 60_000,
    });
    client.emit('message', Buffer.from(userText(`write to ${EMAIL}`)), false);
    assert.deepEqual(upstream, [userText(`write to ${MASK}`)]);
    client.emit('close');
  });

  it('a refused event never reaches the backend; the client gets an error event and the session goes on', () => {
    const screen = chatPromptRules(promptRulesPipeline(), 'private');
    let ended = false;
    const logged: string[] = [];
    const { client, upstream } = attachedSession({
      observer: {
        ...NOOP_REALTIME_OBSERVER,
        promptRefused: (error, param) => logged.push(`${param}: ${error.message}`),
      },
      fields: {},
      promptRules: (frame) => screenRealtimeEvent(frame, screen),
      finished: () => (ended = true),
      pingIntervalMs: 60_000,
    });
    client.emit('message', Buffer.from(userText(`my ssn is ${SSN}`, 'evt_7')), false);
    client.emit('message', Buffer.from(userText('hello')), false);

    assert.deepEqual(upstream, [userText('hello')]);
    assert.equal(client.sent.length, 1);
    const event = JSON.parse(String(client.sent[0])) as {
      type: string;
      error: { type: string; code: string; param: string; event_id: string; message: string };
    };
    assert.equal(event.type, 'error');
    assert.equal(event.error.type, 'invalid_request_error');
    assert.equal(event.error.param, 'item');
    assert.equal(event.error.event_id, 'evt_7');
    assert.ok(!event.error.message.includes(SSN));
    assert.equal(ended, false);
    assert.deepEqual(logged, [
      'item: The prompt was blocked by rule security.promptValidation.blockPatterns[0]',
    ]);
    client.emit('close');
  });

  it("refuses a call whose arguments nest past the stack, as chat's tool calls are, and the session goes on", () => {
    // JSON in a string, the event itself shallow: masking parses and walks it.
    const levels = 200_000;
    const deep = '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
    const call = JSON.stringify({
      type: 'conversation.item.create',
      event_id: 'evt_9',
      item: { type: 'function_call', call_id: 'c', name: 'f', arguments: deep },
    });
    const { client, upstream } = attachedSession({
      observer: NOOP_REALTIME_OBSERVER,
      fields: {},
      promptRules: (frame) =>
        screenRealtimeEvent(frame, chatPromptRules(promptRulesPipeline(), 'private')),
      pingIntervalMs: 60_000,
    });
    client.emit('message', Buffer.from(call), false);
    client.emit('message', Buffer.from(userText('hello')), false);
    assert.deepEqual(upstream, [userText('hello')]);
    const error = JSON.parse(String(client.sent[0])) as {
      event_id?: string;
      error: { type: string; param: string; event_id: string; message: string };
    };
    assert.equal(error.error.type, 'invalid_request_error');
    assert.equal(error.error.param, 'item');
    assert.equal(error.error.event_id, 'evt_9');
    assert.match(error.error.message, /arguments nest arrays or objects deeper than 64 levels/);
    client.emit('close');
  });
});
