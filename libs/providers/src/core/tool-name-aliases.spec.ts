import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError, type JsonObject } from '@aigw/contracts/data-plane';
import {
  aliasLongToolNames,
  restoreToolNames,
  toolNameAlias,
  withRestoredToolNames,
} from './tool-name-aliases';

const LONG = `mcp__plugin_marketplace_docs__${'search_the_documentation_'.repeat(3)}`;
const OTHER = `${LONG}_and_more`;

function fn(name: string): JsonObject {
  return { type: 'function', function: { name, parameters: { type: 'object' } } };
}

describe('aliasLongToolNames', () => {
  it('leaves a body whose names fit as the very same object', () => {
    const body = { messages: [{ role: 'user', content: 'hi' }], tools: [fn('short')] };
    assert.equal(aliasLongToolNames(body).body, body);
    assert.equal(aliasLongToolNames(body).originals, undefined);
  });

  it('gives each long name one alias of 64 characters, everywhere it appears', () => {
    const alias = toolNameAlias(LONG);
    assert.equal(alias.length, 64);
    assert.equal(toolNameAlias(LONG), alias);
    assert.notEqual(toolNameAlias(OTHER), alias);
    const call = { id: 'c1', type: 'function', function: { name: LONG, arguments: '{}' } };
    const body = {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: 'c1', content: 'done' },
      ],
      tools: [fn(LONG), fn('short')],
      tool_choice: { type: 'function', function: { name: LONG } },
    };
    const { body: sent, originals } = aliasLongToolNames(body);
    assert.deepEqual(sent.tools, [fn(alias), fn('short')]);
    assert.deepEqual(sent.tool_choice, { type: 'function', function: { name: alias } });
    const turns = sent.messages as JsonObject[];
    assert.deepEqual(turns[1].tool_calls, [
      { ...call, function: { name: alias, arguments: '{}' } },
    ]);
    // The client's body is not touched.
    assert.equal((body.tools[0].function as JsonObject).name, LONG);
    assert.equal(originals?.get(alias), LONG);
  });

  it('makes an alias every backend takes: no dash, no digit first, even when the name has them', () => {
    const dashed = `mcp__claude-in-chrome__${'read-the-page-'.repeat(4)}`;
    const digitFirst = `9${LONG}`;
    for (const name of [dashed, digitFirst, LONG]) {
      const alias = toolNameAlias(name);
      assert.match(alias, /^[A-Za-z_][A-Za-z0-9_]{63}$/, alias);
    }
    assert.ok(toolNameAlias(dashed).startsWith('mcp__claude_in_chrome__read_the_page_'));
    // Names that read the same once their dashes are underscores still get apart aliases.
    assert.notEqual(toolNameAlias(dashed), toolNameAlias(dashed.replaceAll('-', '_')));
  });

  it("aliases a name with characters backends refuse (a Gemini client's dots and colons), at any length", () => {
    const dotted = 'docs.search:v2';
    const alias = toolNameAlias(dotted);
    assert.match(alias, /^docs_search_v2_[0-9a-f]{13}$/);
    const call = { id: 'c1', type: 'function', function: { name: dotted, arguments: '{}' } };
    const body = {
      messages: [{ role: 'assistant', content: null, tool_calls: [call] }],
      tools: [fn(dotted), fn('plain-name')],
    };
    const { body: sent, originals } = aliasLongToolNames(body);
    assert.deepEqual(sent.tools, [fn(alias), fn('plain-name')]);
    const [turn] = sent.messages as JsonObject[];
    assert.deepEqual(turn.tool_calls, [{ ...call, function: { name: alias, arguments: '{}' } }]);
    assert.equal(originals?.get(alias), dotted);
    // A backend taking 128 characters (Anthropic) keeps a long name as sent, not a dotted one.
    const anthropic = aliasLongToolNames({ messages: [], tools: [fn(LONG), fn(dotted)] }, 128);
    assert.deepEqual(anthropic.body.tools, [fn(LONG), fn(alias)]);
  });

  it("puts the client's names back in a chat.completion's tool calls", () => {
    const { originals } = aliasLongToolNames({ messages: [], tools: [fn(LONG)] });
    const alias = toolNameAlias(LONG);
    const answer = {
      choices: [
        {
          message: {
            role: 'assistant',
            tool_calls: [
              { id: 'a', type: 'function', function: { name: alias, arguments: '{}' } },
              { id: 'b', type: 'function', function: { name: 'short', arguments: '{}' } },
            ],
          },
        },
      ],
    };
    restoreToolNames(answer, originals);
    assert.deepEqual(
      answer.choices[0].message.tool_calls.map((call) => call.function.name),
      [LONG, 'short'],
    );
  });

  it('aliases the long names an allowed_tools choice lists', () => {
    const alias = toolNameAlias(LONG);
    const choice = {
      type: 'allowed_tools',
      allowed_tools: {
        mode: 'required',
        tools: [
          { type: 'function', function: { name: LONG } },
          { type: 'function', function: { name: 'short' } },
        ],
      },
    };
    const { body } = aliasLongToolNames({
      messages: [],
      tools: [fn('short')],
      tool_choice: choice,
    });
    assert.deepEqual(body.tool_choice, {
      type: 'allowed_tools',
      allowed_tools: {
        mode: 'required',
        tools: [
          { type: 'function', function: { name: alias } },
          { type: 'function', function: { name: 'short' } },
        ],
      },
    });
  });

  it("restores a translated stream's chunks as they pass", async () => {
    const alias = toolNameAlias(LONG);
    const originals = new Map([[alias, LONG]]);
    async function* events() {
      yield { choices: [{ delta: { tool_calls: [{ index: 0, function: { name: alias } }] } }] };
      // A name in pieces (no translation here makes one; restored all the same).
      yield {
        choices: [{ delta: { tool_calls: [{ index: 1, function: { name: alias.slice(0, 9) } }] } }],
      };
      yield {
        choices: [{ delta: { tool_calls: [{ index: 1, function: { name: alias.slice(9) } }] } }],
      };
      yield { choices: [{ delta: { content: 'done' } }] };
    }
    const answer = withRestoredToolNames(
      {
        kind: 'stream',
        status: 200,
        events: events(),
        usage: Promise.resolve({ promptTokens: 1, completionTokens: 1 }),
        servedBy: { backend: 'b', model: 'm' },
      } as never,
      originals,
    );
    assert.equal(answer.kind, 'stream');
    const seen: unknown[] = [];
    if (answer.kind === 'stream') for await (const event of answer.events) seen.push(event);
    assert.deepEqual(seen, [
      { choices: [{ delta: { tool_calls: [{ index: 0, function: { name: LONG } }] } }] },
      { choices: [{ delta: { tool_calls: [{ index: 1, function: { name: LONG } }] } }] },
      { choices: [{ delta: { content: 'done' } }] },
    ]);
  });

  it('refuses a long name whose alias a short tool of the client already has, naming both', () => {
    const alias = toolNameAlias(LONG);
    const body = { messages: [], tools: [fn(LONG), fn(alias)] };
    assert.throws(
      () => aliasLongToolNames(body),
      (error: unknown) =>
        error instanceof DataPlaneError &&
        error.httpStatus === 400 &&
        error.param === 'tools[1].function.name' &&
        error.message.includes(`'${LONG}'`) &&
        error.message.includes(`alias '${alias}' is already another tool's name`),
    );
  });
});
