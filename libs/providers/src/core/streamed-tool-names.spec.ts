import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonObject } from '@aigw/contracts/data-plane';
import { StreamedToolNames } from './streamed-tool-names';
import { toolNameAlias } from './tool-name-aliases';

const LONG = `mcp__plugin_marketplace_docs__${'search_the_documentation_'.repeat(3)}`;
const ALIAS = toolNameAlias(LONG);
const originals = () => new Map([[ALIAS, LONG]]);

function chunk(delta: JsonObject, finish: string | null = null, index = 0): JsonObject {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index, delta, finish_reason: finish }],
  };
}

/** A tool-call delta as vLLM continues one: an empty id, the name or arguments in pieces. */
function call(index: number, fn: JsonObject, start?: string): JsonObject {
  return start === undefined
    ? { index, id: '', type: 'function', function: fn }
    : { index, id: start, type: 'function', function: fn };
}

/** What goes on for one chunk: itself when `pass` leaves it as it is. */
function through(names: StreamedToolNames, each: JsonObject): JsonObject[] {
  return names.pass(each) ?? [each];
}

function relay(names: StreamedToolNames, chunks: JsonObject[]): JsonObject[] {
  return [...chunks.flatMap((each) => through(names, each)), ...names.end()];
}

/** Each call of the relayed stream, as a client's SDK puts it together. */
function assembled(
  chunks: JsonObject[],
): { index: number; id: string; name: string; args: string }[] {
  const calls: { index: number; id: string; name: string; args: string }[] = [];
  for (const each of chunks) {
    for (const choice of each.choices as JsonObject[]) {
      for (const delta of ((choice.delta as JsonObject).tool_calls ?? []) as JsonObject[]) {
        const fn = delta.function as JsonObject;
        let seen = calls.find((known) => known.index === delta.index);
        if (!seen) {
          seen = { index: delta.index as number, id: '', name: '', args: '' };
          calls.push(seen);
        }
        if (typeof delta.id === 'string' && delta.id !== '') seen.id = delta.id;
        if (typeof fn.name === 'string') seen.name += fn.name;
        if (typeof fn.arguments === 'string') seen.args += fn.arguments;
      }
    }
  }
  return calls;
}

/** The tool-call deltas of a relayed stream that carry a name, in order. */
function namedDeltas(chunks: JsonObject[]): JsonObject[] {
  return chunks.flatMap((each) =>
    (each.choices as JsonObject[]).flatMap((choice) =>
      (((choice.delta as JsonObject).tool_calls ?? []) as JsonObject[]).filter(
        (delta) => typeof (delta.function as JsonObject).name === 'string',
      ),
    ),
  );
}

describe('StreamedToolNames', () => {
  it("gives an alias streamed in pieces back as the client's name, in one delta once whole", () => {
    const relayed = relay(new StreamedToolNames({ originals: originals() }), [
      chunk({ role: 'assistant', content: 'Let me look.' }),
      chunk({ tool_calls: [call(0, { name: ALIAS.slice(0, 20), arguments: '' }, 'call_1')] }),
      chunk({ tool_calls: [call(0, { name: ALIAS.slice(20, 45) })] }),
      chunk({ tool_calls: [call(0, { name: ALIAS.slice(45) })] }),
      chunk({ tool_calls: [call(0, { name: null, arguments: '{"q": ' })] }),
      chunk({ tool_calls: [call(0, { name: null, arguments: '"install"}' })] }),
      chunk({}, 'tool_calls'),
    ]);
    assert.deepEqual(assembled(relayed), [
      { index: 0, id: 'call_1', name: LONG, args: '{"q": "install"}' },
    ]);
    // One delta names the call, whole (a whole alias is complete: no tool name is longer),
    // before any of its arguments; nothing else is lost.
    const [named, ...others] = namedDeltas(relayed);
    assert.equal(others.length, 0);
    assert.deepEqual(named, {
      index: 0,
      id: 'call_1',
      type: 'function',
      function: { name: LONG, arguments: '' },
    });
    assert.equal(
      ((relayed[0].choices as JsonObject[])[0].delta as JsonObject).content,
      'Let me look.',
    );
    assert.equal((relayed.at(-1)?.choices as JsonObject[])[0].finish_reason, 'tool_calls');
    assert.equal(relayed.length, 5, 'the three chunks of name pieces went on as one');
  });

  it('releases a held name at the next call, at the finish or at the end, keeping indexes and order', () => {
    const names = new StreamedToolNames({ originals: originals() });
    const relayed = relay(names, [
      chunk({ tool_calls: [call(0, { name: ALIAS.slice(0, 30), arguments: '' }, 'call_1')] }),
      chunk({ tool_calls: [call(0, { name: ALIAS.slice(30) })] }),
      chunk({ tool_calls: [call(1, { name: 'get_', arguments: '' }, 'call_2')] }),
      chunk({ tool_calls: [call(1, { name: 'time', arguments: '{}' })] }),
      chunk({ tool_calls: [call(2, { name: ALIAS.slice(0, 10), arguments: '' }, 'call_3')] }),
      chunk({ tool_calls: [call(2, { name: ALIAS.slice(10) })] }),
      chunk({}, 'tool_calls'),
    ]);
    assert.deepEqual(assembled(relayed), [
      { index: 0, id: 'call_1', name: LONG, args: '' },
      { index: 1, id: 'call_2', name: 'get_time', args: '{}' },
      { index: 2, id: 'call_3', name: LONG, args: '' },
    ]);
    assert.deepEqual(
      namedDeltas(relayed).map((delta) => [delta.index, (delta.function as JsonObject).name]),
      [
        [0, LONG],
        [1, 'get_'],
        [1, 'time'],
        [2, LONG],
      ],
    );
    assert.equal((relayed.at(-1)?.choices as JsonObject[])[0].finish_reason, 'tool_calls');

    // A stream that ends with a name still held (no finish seen) still gets it.
    const cut = new StreamedToolNames({ originals: originals() });
    assert.deepEqual(
      cut.pass(chunk({ tool_calls: [call(0, { name: ALIAS.slice(0, 5) }, 'call_9')] })),
      [],
    );
    const [last] = cut.end();
    assert.deepEqual(last, {
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [
              { index: 0, id: 'call_9', type: 'function', function: { name: ALIAS.slice(0, 5) } },
            ],
          },
          finish_reason: null,
        },
      ],
    });
  });

  it('holds nothing back of a call whose name is whole, or can be no alias', () => {
    const names = new StreamedToolNames({ originals: originals() });
    const whole = chunk({ tool_calls: [call(0, { name: ALIAS, arguments: '' }, 'call_1')] });
    assert.deepEqual(assembled(through(names, whole)), [
      { index: 0, id: 'call_1', name: LONG, args: '' },
    ]);
    const other = chunk({ tool_calls: [call(1, { name: 'get_weather', arguments: '' }, 'c2')] });
    assert.deepEqual(through(names, other), [other]);
    // Its later name pieces are its own, even one that starts like an alias.
    const piece = chunk({ tool_calls: [call(1, { name: ALIAS.slice(0, 3) })] });
    assert.deepEqual(through(names, piece), [piece]);
    // A start of an alias that goes elsewhere is let go as soon as it does.
    const fork = new StreamedToolNames({ originals: originals() });
    assert.deepEqual(fork.pass(chunk({ tool_calls: [call(0, { name: 'mcp__' }, 'c3')] })), []);
    const [released] = through(fork, chunk({ tool_calls: [call(0, { name: 'other' })] }));
    assert.deepEqual(assembled([released]), [{ index: 0, id: 'c3', name: 'mcp__other', args: '' }]);
  });

  it('puts the client’s name back in every later delta that repeats the whole alias', () => {
    // Some compatible servers name the call again in each of its deltas; OpenAI's SDK takes
    // the last name given (and refuses a changed one when it parses tools).
    const relayed = relay(new StreamedToolNames({ originals: originals() }), [
      chunk({ tool_calls: [call(0, { name: ALIAS, arguments: '' }, 'call_1')] }),
      chunk({ tool_calls: [call(0, { name: ALIAS, arguments: '{"q": ' })] }),
      chunk({ tool_calls: [call(0, { name: ALIAS, arguments: '"x"}' })] }),
      chunk({}, 'tool_calls'),
    ]);
    const names = namedDeltas(relayed).map((delta) => (delta.function as JsonObject).name);
    assert.deepEqual(names, [LONG, LONG, LONG]);
  });

  it('keeps a short tool whose name starts an alias as it is, once its arguments come', () => {
    const relayed = relay(new StreamedToolNames({ originals: originals() }), [
      chunk({ tool_calls: [call(0, { name: 'mcp__plugin', arguments: '' }, 'call_1')] }),
      chunk({ tool_calls: [call(0, { arguments: '{}' })] }),
      chunk({}, 'tool_calls'),
    ]);
    assert.deepEqual(assembled(relayed), [
      { index: 0, id: 'call_1', name: 'mcp__plugin', args: '{}' },
    ]);
  });

  it('releases a held call ahead of the text that follows it, per choice', () => {
    const relayed = relay(new StreamedToolNames({ originals: originals() }), [
      chunk({ tool_calls: [call(0, { name: ALIAS.slice(0, 30) }, 'a')] }, null, 0),
      chunk({ tool_calls: [call(0, { name: ALIAS.slice(0, 40) }, 'b')] }, null, 1),
      chunk({ tool_calls: [call(0, { name: ALIAS.slice(30) })] }, null, 0),
      chunk({ content: 'and more' }, null, 1),
    ]);
    const seen = relayed.map((each) => {
      const [choice] = each.choices as JsonObject[];
      const delta = choice.delta as JsonObject;
      return [
        choice.index,
        delta.content ?? ((delta.tool_calls as JsonObject[])[0].function as JsonObject).name,
      ];
    });
    assert.deepEqual(seen, [
      [0, LONG],
      [1, ALIAS.slice(0, 40)],
      [1, 'and more'],
    ]);
  });
});

describe('StreamedToolNames with the tools as sent (the OpenAI wire)', () => {
  const OTHER = `mcp__plugin_marketplace_docs__${'read_the_whole_page_'.repeat(3)}`;
  const OTHER_ALIAS = toolNameAlias(OTHER);
  const sent = (...names: string[]) =>
    names.map((name) => ({ type: 'function', function: { name } }));
  const wire = (...names: string[]) =>
    new StreamedToolNames({
      originals: new Map([
        [ALIAS, LONG],
        [OTHER_ALIAS, OTHER],
      ]),
      tools: sent(ALIAS, OTHER_ALIAS, ...names),
    });
  /** Per call index, the deltas of the relayed stream in order: [name, arguments]. */
  const perCall = (chunks: JsonObject[]) => {
    const calls = new Map<number, [unknown, unknown][]>();
    for (const each of chunks) {
      for (const choice of each.choices as JsonObject[]) {
        for (const delta of ((choice.delta as JsonObject).tool_calls ?? []) as JsonObject[]) {
          const fn = delta.function as JsonObject;
          const index = delta.index as number;
          calls.set(index, [...(calls.get(index) ?? []), [fn.name, fn.arguments]]);
        }
      }
    }
    return Object.fromEntries(calls);
  };

  it('names interleaved parallel calls whole, each by its index, their arguments in order', () => {
    // Both aliases begin alike (the MCP server's prefix): no piece tells them apart early.
    assert.equal(ALIAS.slice(0, 30), OTHER_ALIAS.slice(0, 30));
    const relayed = relay(wire(), [
      chunk({ role: 'assistant', content: null }),
      chunk({ tool_calls: [call(0, { name: ALIAS.slice(0, 20), arguments: '' }, 'call_a')] }),
      chunk({ tool_calls: [call(1, { name: OTHER_ALIAS.slice(0, 20), arguments: '' }, 'call_b')] }),
      chunk({ tool_calls: [call(0, { name: ALIAS.slice(20, 40) })] }),
      chunk({ tool_calls: [call(1, { name: OTHER_ALIAS.slice(20) })] }),
      // Call 0's arguments begin while its name is still arriving: they wait with it.
      chunk({ tool_calls: [call(0, { arguments: '{"q":' })] }),
      chunk({ tool_calls: [call(1, { arguments: '{"url":' })] }),
      chunk({ tool_calls: [call(0, { name: ALIAS.slice(40) }), call(1, { arguments: '"a"}' })] }),
      chunk({ tool_calls: [call(0, { arguments: '"x"}' })] }),
      chunk({}, 'tool_calls'),
    ]);
    assert.deepEqual(perCall(relayed), {
      0: [
        [LONG, '{"q":'],
        [undefined, '"x"}'],
      ],
      1: [
        [OTHER, ''],
        [undefined, '{"url":'],
        [undefined, '"a"}'],
      ],
    });
    assert.deepEqual(assembled(relayed), [
      { index: 1, id: 'call_b', name: OTHER, args: '{"url":"a"}' },
      { index: 0, id: 'call_a', name: LONG, args: '{"q":"x"}' },
    ]);
    assert.equal((relayed.at(-1)?.choices as JsonObject[])[0].finish_reason, 'tool_calls');
  });

  it('waits for a name piece that comes after the arguments began, holding them', () => {
    const relayed = relay(wire('mcp__github__create'), [
      chunk({ tool_calls: [call(0, { name: ALIAS.slice(0, 30), arguments: '' }, 'call_1')] }),
      chunk({ tool_calls: [call(0, { arguments: '{"q": ' })] }),
      chunk({ tool_calls: [call(0, { arguments: '"in' })] }),
      chunk({ tool_calls: [call(0, { name: ALIAS.slice(30) })] }),
      chunk({ tool_calls: [call(0, { arguments: 'stall"}' })] }),
      chunk({}, 'tool_calls'),
    ]);
    assert.deepEqual(perCall(relayed), {
      0: [
        [LONG, '{"q": "in'],
        [undefined, 'stall"}'],
      ],
    });
    assert.equal(relayed.length, 3, 'the held deltas went on as one');
  });

  it('hands on a name of no alias sent in pieces whole: a tool, a tool a longer one begins with, a tool not offered', () => {
    const TOOL = 'search_the_documentation_of_the_marketplace_plugins_now';
    const names = () => wire(TOOL, 'Read', 'ReadMcpResource');
    const cases: [JsonObject[], [unknown, unknown][]][] = [
      [
        [
          chunk({ tool_calls: [call(0, { name: TOOL.slice(0, 9), arguments: '' }, 'c')] }),
          chunk({ tool_calls: [call(0, { name: TOOL.slice(9, 30) })] }),
          chunk({ tool_calls: [call(0, { name: TOOL.slice(30) })] }),
          chunk({ tool_calls: [call(0, { arguments: '{}' })] }),
        ],
        [
          [TOOL, ''],
          [undefined, '{}'],
        ],
      ],
      [
        [
          chunk({ tool_calls: [call(0, { name: 'Read', arguments: '' }, 'c')] }),
          chunk({ tool_calls: [call(0, { name: 'Mcp' })] }),
          chunk({ tool_calls: [call(0, { name: 'Resource', arguments: '{}' })] }),
        ],
        [['ReadMcpResource', '{}']],
      ],
      [
        [
          chunk({ tool_calls: [call(0, { name: 'Read', arguments: '' }, 'c')] }),
          // A server naming the call again with the arguments adds nothing to the name.
          chunk({ tool_calls: [call(0, { name: 'Read', arguments: '{"path":"/"}' })] }),
        ],
        [['Read', '{"path":"/"}']],
      ],
      [
        [
          chunk({ tool_calls: [call(0, { name: 'ask_', arguments: '' }, 'c')] }),
          chunk({ tool_calls: [call(0, { name: 'user' })] }),
          chunk({ tool_calls: [call(0, { arguments: '{}' })] }),
        ],
        [['ask_user', '{}']],
      ],
    ];
    for (const [chunks, deltas] of cases) {
      // Each goes on by its arguments, not at the finish.
      const restored = names();
      const relayed = chunks.flatMap((each) => through(restored, each));
      assert.deepEqual(perCall(relayed), { 0: deltas }, JSON.stringify(deltas));
      assert.deepEqual(restored.end(), []);
    }
  });

  it('leaves a stream whose calls are named whole as it is, chunk for chunk', () => {
    const names = wire('get_time', 'get_weather');
    const chunks = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ tool_calls: [call(0, { name: 'get_time', arguments: '' }, 'a')] }),
      chunk({ tool_calls: [call(1, { name: 'get_weather', arguments: '' }, 'b')] }),
      chunk({ tool_calls: [call(0, { arguments: '{}' }), call(1, { arguments: '{}' })] }),
      chunk({ tool_calls: [call(1, { name: 'get_weather' })] }),
      chunk({}, 'tool_calls'),
    ];
    for (const each of chunks) assert.equal(names.pass(each), undefined);
    assert.deepEqual(names.end(), []);
  });

  it('releases every call still held at the finish, in the order they began, ahead of it', () => {
    const relayed = relay(wire(), [
      chunk({ tool_calls: [call(0, { name: ALIAS.slice(0, 10) }, 'a')] }),
      chunk({ tool_calls: [call(1, { name: OTHER_ALIAS.slice(0, 10) }, 'b')] }),
      chunk({ tool_calls: [call(1, { arguments: '{}' })] }),
      chunk({}, 'length'),
    ]);
    assert.equal(relayed.length, 2);
    assert.deepEqual(perCall([relayed[0]]), {
      0: [[ALIAS.slice(0, 10), undefined]],
      1: [[OTHER_ALIAS.slice(0, 10), '{}']],
    });
    assert.equal((relayed[1].choices as JsonObject[])[0].finish_reason, 'length');
  });
});
