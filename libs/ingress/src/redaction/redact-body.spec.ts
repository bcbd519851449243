import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject, Operation } from '@aigw/contracts/data-plane';
import { translateMessagesRequest } from '../anthropic/domain/anthropic-request';
import { translateResponsesRequest } from '../responses/domain/responses-request';
import { redactBody } from './redact-body';
import { Redactor, type RedactionTally } from './redactor';

const EMAIL = 'jane@example.com';
const MASK = '[REDACTED:email]';
const redactor = new Redactor({
  detectors: [
    { name: 'email', mode: 'redact' },
    { name: 'creditCard', mode: 'redact' },
  ],
  patterns: [],
});

function redact(operation: Operation, body: JsonObject) {
  const tally: RedactionTally = new Map();
  const out = redactBody(operation, body, redactor, tally);
  return { out, tally, text: JSON.stringify(out) };
}

describe('redactBody', () => {
  it('chat: string content, text parts, tool results and tool arguments; structure kept', () => {
    const image = { type: 'image_url', image_url: { url: `https://img.test/${EMAIL}.png` } };
    const body: JsonObject = {
      model: 'm',
      messages: [
        { role: 'system', content: `support is ${EMAIL}` },
        { role: 'user', content: [{ type: 'text', text: `I am ${EMAIL}` }, image] },
        {
          role: 'assistant',
          content: `Writing to ${EMAIL}`,
          tool_calls: [
            {
              id: 'call_jane@example.com',
              type: 'function',
              function: {
                name: 'send',
                arguments: `{"to": "${EMAIL}", "cc": ["a@b.io"], "n": 4111111111111111}`,
              },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_jane@example.com', content: `sent to ${EMAIL}` },
      ],
      tools: [{ type: 'function', function: { name: 'send', description: `mail ${EMAIL}` } }],
    };
    const { out, tally } = redact('chat', body);
    const messages = out.messages as JsonObject[];
    assert.equal(messages[0].content, `support is ${MASK}`);
    assert.deepEqual(messages[1].content, [{ type: 'text', text: `I am ${MASK}` }, image]);
    assert.equal((messages[1].content as unknown[])[1], image, 'an image part is the same object');
    assert.equal(messages[2].content, `Writing to ${MASK}`);
    const call = (messages[2].tool_calls as JsonObject[])[0];
    assert.equal(call.id, 'call_jane@example.com', 'ids are never touched');
    // The arguments stay valid JSON; a number is no text, so it stays.
    assert.deepEqual(JSON.parse((call.function as JsonObject).arguments as string), {
      to: MASK,
      cc: [MASK],
      n: 4111111111111111,
    });
    assert.equal(messages[3].tool_call_id, 'call_jane@example.com');
    assert.equal(messages[3].content, `sent to ${MASK}`);
    assert.equal(out.tools, body.tools, 'tool definitions are the developer’s, not the user’s');
    assert.equal(tally.get('email'), 6);
    assert.match(JSON.stringify(body), /jane@example\.com/, 'the client body is not mutated');
  });

  it('chat: the legacy function_call and arguments that are not JSON', () => {
    const { out } = redact('chat', {
      model: 'm',
      messages: [
        {
          role: 'assistant',
          content: null,
          function_call: { name: 'f', arguments: `{"a":"${EMAIL}"}` },
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c', function: { name: 'f', arguments: `to ${EMAIL}` } }],
        },
      ],
    });
    const [legacy, broken] = out.messages as JsonObject[];
    assert.equal((legacy.function_call as JsonObject).arguments, `{"a":"${MASK}"}`);
    const call = (broken.tool_calls as JsonObject[])[0].function as JsonObject;
    assert.equal(call.arguments, `to ${MASK}`);
  });

  it('chat: arguments sent as a JSON object (as vLLM and Ollama take them) stay an object', () => {
    // The translating adapters send such arguments on as the object's JSON: unredacted,
    // the address reached the backend past the route's rules.
    const args = { to: EMAIL, cc: ['a@b.io'], n: 4 };
    const { out } = redact('chat', {
      model: 'm',
      messages: [
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: args } }],
        },
      ],
    });
    const [turn] = out.messages as JsonObject[];
    const call = (turn.tool_calls as JsonObject[])[0].function as JsonObject;
    assert.deepEqual(call.arguments, { to: MASK, cc: [MASK], n: 4 });
    assert.equal(args.to, EMAIL, 'the client body is not mutated');
  });

  it('returns the very same body when nothing matches (no copy)', () => {
    const body: JsonObject = {
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hello 1.2.3' }] }],
    };
    const { out, tally } = redact('chat', body);
    assert.equal(out, body);
    assert.equal(tally.size, 0);
  });

  it('Anthropic Messages: system, text and document blocks, tool_use input, tool_result; thinking kept', () => {
    const { chat } = translateMessagesRequest({
      model: 'claude',
      max_tokens: 10,
      system: [{ type: 'text', text: `sys ${EMAIL}` }],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: `hi ${EMAIL}` },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: EMAIL } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: `noted ${EMAIL}`, signature: 'sig-1' },
            { type: 'tool_use', id: 'toolu_1', name: 'send', input: { to: EMAIL } },
          ],
        },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: `sent ${EMAIL}` }],
        },
      ],
    });
    const { out, tally } = redact('chat', chat);
    const messages = out.messages as JsonObject[];
    assert.equal(messages[0].content, `sys ${MASK}`);
    const blocks = messages[2].thinking_blocks as JsonObject[];
    assert.deepEqual(blocks, [
      { type: 'thinking', thinking: `noted ${EMAIL}`, signature: 'sig-1' },
    ]);
    // Everything but the signed thinking block is masked.
    assert.equal(JSON.stringify(out).split(EMAIL).length - 1, 1);
    assert.equal(tally.get('email'), 5);
    assert.match(JSON.stringify(messages[1].content), /data:image\/png;base64,AAAA/);
  });

  it('Anthropic Messages: a server tool’s query, results and cited text sent back; encrypted parts, URLs and thinking kept', () => {
    const url = `https://example.com/u/${EMAIL}`;
    const turn = [
      { type: 'thinking', thinking: `search ${EMAIL}`, signature: 'sig-1' },
      {
        type: 'server_tool_use',
        id: 'srvtoolu_1',
        name: 'web_search',
        input: { query: `who is ${EMAIL}` },
      },
      {
        type: 'web_search_tool_result',
        tool_use_id: 'srvtoolu_1',
        content: [
          {
            type: 'web_search_result',
            url,
            title: `Profile of ${EMAIL}`,
            encrypted_content: `enc-${EMAIL}`,
          },
        ],
      },
      { type: 'server_tool_use', id: 'srvtoolu_2', name: 'web_fetch', input: { url } },
      {
        type: 'web_fetch_tool_result',
        tool_use_id: 'srvtoolu_2',
        content: {
          type: 'web_fetch_result',
          url,
          content: {
            type: 'document',
            source: { type: 'text', media_type: 'text/plain', data: `Contact ${EMAIL}` },
            title: 'Contact',
          },
        },
      },
      {
        type: 'text',
        text: `Write to ${EMAIL}.`,
        citations: [
          {
            type: 'web_search_result_location',
            url,
            title: 'Profile',
            encrypted_index: `idx-${EMAIL}`,
            cited_text: `Mail ${EMAIL} for details.`,
          },
        ],
      },
    ];
    const { chat } = translateMessagesRequest({
      model: 'claude',
      max_tokens: 10,
      tools: [{ type: 'web_search_20250305', name: 'web_search' }],
      messages: [
        { role: 'user', content: 'Who is it?' },
        { role: 'assistant', content: turn },
      ],
    });
    const { out, tally } = redact('chat', chat);
    const content = (out.messages as JsonObject[])[1].content as JsonObject[];
    const [thinking, search, results, fetch, fetched, cited] = content;
    assert.deepEqual(thinking, turn[0]);
    assert.deepEqual(search.input, { query: `who is ${MASK}` });
    assert.deepEqual(results.content, [
      {
        type: 'web_search_result',
        url,
        title: `Profile of ${MASK}`,
        encrypted_content: `enc-${EMAIL}`,
      },
    ]);
    // A URL in a fetch's input is the call's input, masked as a tool call's arguments are.
    assert.deepEqual(fetch.input, { url: `https://example.com/u/${MASK}` });
    const page = (fetched.content as JsonObject).content as JsonObject;
    assert.equal((page.source as JsonObject).data, `Contact ${MASK}`);
    assert.equal((fetched.content as JsonObject).url, url);
    assert.equal(cited.text, `Write to ${MASK}.`);
    assert.deepEqual(cited.citations, [
      {
        type: 'web_search_result_location',
        url,
        title: 'Profile',
        encrypted_index: `idx-${EMAIL}`,
        cited_text: `Mail ${MASK} for details.`,
      },
    ]);
    assert.equal(tally.get('email'), 6);
  });

  it('Responses: instructions, input_text, function_call arguments and outputs', () => {
    const { chat } = translateResponsesRequest({
      model: 'm',
      instructions: `ins ${EMAIL}`,
      input: [
        { role: 'user', content: [{ type: 'input_text', text: `in ${EMAIL}` }] },
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: `{"to":"${EMAIL}"}` },
        { type: 'function_call_output', call_id: 'c1', output: `done ${EMAIL}` },
      ],
    });
    const { text, tally } = redact('chat', chat);
    assert.ok(!text.includes(EMAIL), text);
    assert.equal(tally.get('email'), 4);
    assert.match(text, /"tool_call_id":"c1"/);
  });

  it('completions: prompt and suffix, strings or lists; token arrays untouched', () => {
    const tokens = [[1, 2, 3]];
    const { out } = redact('completions', {
      model: 'm',
      prompt: [`to ${EMAIL}`, 'plain'],
      suffix: EMAIL,
    });
    assert.deepEqual(out.prompt, [`to ${MASK}`, 'plain']);
    assert.equal(out.suffix, MASK);
    const same = { model: 'm', prompt: tokens };
    assert.equal(redact('completions', same).out, same);
  });

  it('embeddings: input as a string or a list', () => {
    assert.equal(
      redact('embeddings', { model: 'e', input: `card 4111 1111 1111 1111` }).out.input,
      'card [REDACTED:creditCard]',
    );
    assert.deepEqual(redact('embeddings', { model: 'e', input: [EMAIL, 'x'] }).out.input, [
      MASK,
      'x',
    ]);
  });

  it("embeddings: a document's title, beside input or in provider_extras, shared or per input", () => {
    const { out, tally } = redact('embeddings', {
      model: 'e',
      input: ['one', 'two', 'three'],
      title: `Vertex ${EMAIL}`,
      provider_extras: { task_type: 'RETRIEVAL_DOCUMENT', title: [`To ${EMAIL}`, null, 'plain'] },
    });
    assert.deepEqual(out, {
      model: 'e',
      input: ['one', 'two', 'three'],
      title: `Vertex ${MASK}`,
      provider_extras: { task_type: 'RETRIEVAL_DOCUMENT', title: [`To ${MASK}`, null, 'plain'] },
    });
    assert.equal(tally.get('email'), 2);
    const shared = redact('embeddings', {
      model: 'e',
      input: 'x',
      provider_extras: { title: `card 4111 1111 1111 1111` },
    });
    assert.deepEqual(shared.out.provider_extras, { title: 'card [REDACTED:creditCard]' });
    const clean = { model: 'e', input: 'x', title: 'Plain', provider_extras: { title: ['a'] } };
    assert.equal(redact('embeddings', clean).out, clean, 'nothing masked: the same body');
  });

  it('embeddings: a title beside input that is not text is refused, never passed on unscreened', () => {
    // An OpenAI-format backend gets `title` as it came: a list or an object would carry
    // the text past the rules, a number a card number.
    for (const title of [[EMAIL], [1, { t: EMAIL }], { text: EMAIL }, 4111111111111111, true]) {
      assert.throws(
        () => redact('embeddings', { model: 'e', input: 'x', title }),
        (error: Error) =>
          /title must be a string/.test(error.message) && !error.message.includes(EMAIL),
        JSON.stringify(title),
      );
    }
    const none = { model: 'e', input: 'x', title: null };
    assert.equal(redact('embeddings', none).out, none);
  });

  it('embeddings: a block rule matching only in a title refuses the request, naming the rule', () => {
    const blocking = new Redactor({ detectors: [{ name: 'iban', mode: 'block' }], patterns: [] });
    const iban = 'DE89 3704 0044 0532 0130 00';
    for (const body of [
      { model: 'e', input: 'x', title: `wire ${iban}` },
      { model: 'e', input: ['x', 'y'], provider_extras: { title: [null, `wire ${iban}`] } },
    ]) {
      assert.throws(
        () => redactBody('embeddings', body, blocking, new Map()),
        (error: Error) =>
          /security\.promptValidation\.redact \(iban\)/.test(error.message) &&
          !error.message.includes('DE89'),
      );
    }
  });

  it('rerank: the query and each document, strings or {text} objects', () => {
    const { out, tally } = redact('rerank', {
      model: 'm',
      query: `mail ${EMAIL}`,
      documents: [EMAIL, { text: `to ${EMAIL}`, id: 'd2' }, 'plain'],
      top_n: 2,
    });
    assert.deepEqual(out, {
      model: 'm',
      query: `mail ${MASK}`,
      documents: [MASK, { text: `to ${MASK}`, id: 'd2' }, 'plain'],
      top_n: 2,
    });
    assert.equal(tally.get('email'), 3);
  });

  it("moderations: a multimodal input's text parts; image parts untouched", () => {
    const image = { type: 'image_url', image_url: { url: `https://img.test/${EMAIL}.png` } };
    const { out } = redact('moderations', {
      input: [{ type: 'text', text: EMAIL }, image],
    });
    assert.deepEqual(out.input, [{ type: 'text', text: MASK }, image]);
  });
});
