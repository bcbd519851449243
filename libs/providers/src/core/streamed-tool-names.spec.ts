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

function relay(names: StreamedToolNames, chunks: JsonObject[]): JsonObject[] {
  return [...chunks.flatMap((each) => names.pass(each)), ...names.end()];
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
    const relayed = relay(new StreamedToolNames(originals()), [
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
    const names = new StreamedToolNames(originals());
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
    const cut = new StreamedToolNames(originals());
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
    const names = new StreamedToolNames(originals());
    const whole = chunk({ tool_calls: [call(0, { name: ALIAS, arguments: '' }, 'call_1')] });
    assert.deepEqual(assembled(names.pass(whole)), [
      { index: 0, id: 'call_1', name: LONG, args: '' },
    ]);
    const other = chunk({ tool_calls: [call(1, { name: 'get_weather', arguments: '' }, 'c2')] });
    assert.deepEqual(names.pass(other), [other]);
    // Its later name pieces are its own, even one that starts like an alias.
    const piece = chunk({ tool_calls: [call(1, { name: ALIAS.slice(0, 3) })] });
    assert.deepEqual(names.pass(piece), [piece]);
    // A start of an alias that goes elsewhere is let go as soon as it does.
    const fork = new StreamedToolNames(originals());
    assert.deepEqual(fork.pass(chunk({ tool_calls: [call(0, { name: 'mcp__' }, 'c3')] })), []);
    const [released] = fork.pass(chunk({ tool_calls: [call(0, { name: 'other' })] }));
    assert.deepEqual(assembled([released]), [{ index: 0, id: 'c3', name: 'mcp__other', args: '' }]);
  });

  it('puts the client’s name back in every later delta that repeats the whole alias', () => {
    // Some compatible servers name the call again in each of its deltas; OpenAI's SDK takes
    // the last name given (and refuses a changed one when it parses tools).
    const relayed = relay(new StreamedToolNames(originals()), [
      chunk({ tool_calls: [call(0, { name: ALIAS, arguments: '' }, 'call_1')] }),
      chunk({ tool_calls: [call(0, { name: ALIAS, arguments: '{"q": ' })] }),
      chunk({ tool_calls: [call(0, { name: ALIAS, arguments: '"x"}' })] }),
      chunk({}, 'tool_calls'),
    ]);
    const names = namedDeltas(relayed).map((delta) => (delta.function as JsonObject).name);
    assert.deepEqual(names, [LONG, LONG, LONG]);
  });

  it('keeps a short tool whose name starts an alias as it is, once its arguments come', () => {
    const relayed = relay(new StreamedToolNames(originals()), [
      chunk({ tool_calls: [call(0, { name: 'mcp__plugin', arguments: '' }, 'call_1')] }),
      chunk({ tool_calls: [call(0, { arguments: '{}' })] }),
      chunk({}, 'tool_calls'),
    ]);
    assert.deepEqual(assembled(relayed), [
      { index: 0, id: 'call_1', name: 'mcp__plugin', args: '{}' },
    ]);
  });

  it('releases a held call ahead of the text that follows it, per choice', () => {
    const relayed = relay(new StreamedToolNames(originals()), [
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
