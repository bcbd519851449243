import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ANTHROPIC_SERVER_TOOLS, type JsonObject } from '@aigw/contracts/data-plane';
import { parseChatRequest } from '../core/chat-request';
import {
  claudeThinking,
  claudeThinkingFields,
  isReplayableThinking,
  replayableThinking,
  type ThinkingDroppedListener,
} from './anthropic-thinking';

// Which models think within a budget only is in claude-models.spec, with every naming.

const asked = (fields: Record<string, unknown>) =>
  parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...fields });

/** The `thinking` and `output_config` fields `model` is sent for a request of `fields`. */
function sent(model: string, fields: Record<string, unknown>) {
  const thinking = claudeThinking(asked(fields), undefined, model);
  return thinking && claudeThinkingFields(thinking);
}

const BUDGET = { thinking: { type: 'enabled', budget_tokens: 4096 } };

describe("how Claude's thinking is shown", () => {
  it('asks a Claude that hides its thinking for it summarized, for a budget as for an effort', () => {
    for (const model of ['claude-opus-4-7', 'us.anthropic.claude-opus-4-7-v1:0', 'claude-opus-5']) {
      assert.deepEqual(
        sent(model, BUDGET),
        {
          thinking: { type: 'adaptive', display: 'summarized' },
          output_config: { effort: 'medium' },
        },
        model,
      );
      assert.deepEqual(
        sent(model, { reasoning_effort: 'medium' }),
        {
          thinking: { type: 'adaptive', display: 'summarized' },
          output_config: { effort: 'medium' },
        },
        model,
      );
    }
  });

  it("keeps the client's own display, with a budget or adaptive thinking", () => {
    assert.deepEqual(
      sent('claude-opus-4-7', { thinking: { ...BUDGET.thinking, display: 'omitted' } }),
      { thinking: { type: 'adaptive', display: 'omitted' }, output_config: { effort: 'medium' } },
    );
    assert.deepEqual(
      sent('claude-sonnet-4-5', { thinking: { ...BUDGET.thinking, display: 'omitted' } }),
      { thinking: { type: 'enabled', budget_tokens: 4096, display: 'omitted' } },
    );
    assert.deepEqual(sent('claude-opus-4-7', { thinking: { type: 'adaptive' } }), {
      thinking: { type: 'adaptive' },
    });
  });

  it('asks a Claude that shows its thinking for a budget alone, for a budget as for an effort', () => {
    assert.deepEqual(sent('claude-sonnet-4-5@20250929', BUDGET), {
      thinking: { type: 'enabled', budget_tokens: 4096 },
    });
    const effort = sent('claude-sonnet-4-5@20250929', { reasoning_effort: 'low' });
    assert.equal(effort?.thinking.type, 'enabled');
    assert.equal(effort?.thinking.display, undefined);
  });
});

describe('which thinking blocks Claude takes back', () => {
  const signed = { type: 'thinking', thinking: 'Hm.', signature: 'sig-1' } as const;
  const unsigned = { type: 'thinking', thinking: 'Hm.', signature: '' } as const;
  const redacted = { type: 'redacted_thinking', data: 'enc' } as const;

  it('takes a signed thinking block and a redacted one, not an unsigned one', () => {
    assert.equal(isReplayableThinking(signed), true);
    assert.equal(isReplayableThinking(redacted), true);
    assert.equal(isReplayableThinking(unsigned), false);
  });

  it('reads a raw block as a parsed one: no signature, or not a string, is unsigned', () => {
    const raw = (block: JsonObject) => isReplayableThinking(block);
    assert.equal(raw({ type: 'thinking', thinking: 'Hm.' }), false);
    assert.equal(raw({ type: 'thinking', thinking: 'Hm.', signature: 7 }), false);
    assert.equal(raw({ type: 'thinking', thinking: 'Hm.', signature: 'sig-1' }), true);
    assert.equal(raw({ type: 'redacted_thinking', data: 'enc' }), true);
    // Not a thinking block at all: nothing to send back as reasoning.
    assert.equal(raw({ type: 'text', signature: 'sig-1' }), false);
  });

  it("keeps a turn's replayable blocks in their order", () => {
    assert.deepEqual(replayableThinking([unsigned, signed, redacted, unsigned]), [
      signed,
      redacted,
    ]);
  });
});

describe('budget thinking in a tool loop', () => {
  const call = {
    id: 'toolu_1',
    type: 'function',
    function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
  };
  const loop = (
    assistant: Record<string, unknown>,
    model: string,
    onDropped?: ThinkingDroppedListener,
  ) =>
    claudeThinking(
      parseChatRequest({
        model: 'm',
        reasoning_effort: 'high',
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [call], ...assistant },
          { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
        ],
      }),
      undefined,
      model,
      onDropped,
    );

  it('is left out when the tool-calling turn came back without its signed thinking, which Claude refuses', () => {
    assert.equal(loop({}, 'claude-sonnet-4-5'), undefined);
    const unsigned = { thinking_blocks: [{ type: 'thinking', thinking: 'Hm.' }] };
    assert.equal(loop(unsigned, 'claude-3-7-sonnet-20250219'), undefined);
  });

  it('is kept when the turn carries its thinking, and adaptive thinking is left as asked', () => {
    const signed = { thinking_blocks: [{ type: 'thinking', thinking: 'Hm.', signature: 'sig' }] };
    assert.equal(loop(signed, 'claude-sonnet-4-5')?.kind, 'budget');
    assert.equal(loop({}, 'claude-opus-4-7')?.kind, 'adaptive');
  });

  it('tells that the reasoning asked for was left out, and only then', () => {
    const told: string[] = [];
    const tell = (setting: string, reason: string) => told.push(`${setting} ${reason}`);
    loop({}, 'claude-sonnet-4-5', tell);
    assert.deepEqual(told, ['reasoning tool_loop']);
    const signed = { thinking_blocks: [{ type: 'thinking', thinking: 'Hm.', signature: 'sig' }] };
    loop(signed, 'claude-sonnet-4-5', tell);
    loop({}, 'claude-opus-4-7', tell);
    assert.deepEqual(told, ['reasoning tool_loop']);
  });
});

describe('budget thinking in a loop of several tool calls', () => {
  const SIGNED = [{ type: 'thinking', thinking: 'Hm.', signature: 'sig' }];
  const call = (id: string) => ({
    id,
    type: 'function',
    function: { name: 'get_weather', arguments: '{}' },
  });
  /** A question, then one assistant turn per entry (its thinking_blocks), each answered by a tool. */
  const loop = (thinking: (readonly object[] | undefined)[], after: object[] = []) =>
    claudeThinking(
      parseChatRequest({
        model: 'm',
        reasoning_effort: 'high',
        messages: [
          { role: 'user', content: 'Weather in Paris and Rome?' },
          ...thinking.flatMap((blocks, i) => [
            {
              role: 'assistant',
              content: null,
              tool_calls: [call(`toolu_${i}`)],
              ...(blocks ? { thinking_blocks: blocks } : {}),
            },
            { role: 'tool', tool_call_id: `toolu_${i}`, content: '18C' },
          ]),
          ...after,
        ],
      }),
      undefined,
      'claude-sonnet-4-5',
    );

  // Claude thinks at the start of its turn; a loop is one turn, so its later tool calls
  // come without thinking (unless interleaved), and only the first must carry it back.
  it('is kept when the turn began with its signed thinking, though its later calls carry none', () => {
    assert.equal(loop([SIGNED, undefined])?.kind, 'budget');
    const redacted = [{ type: 'redacted_thinking', data: 'opaque' }];
    assert.equal(loop([redacted, undefined, undefined])?.kind, 'budget');
  });

  it('is left out when the turn began without it, though a later call carries some', () => {
    assert.equal(loop([undefined, SIGNED]), undefined);
  });

  it('counts a question after a tool result, in the same message as it, as the same turn', () => {
    const question = [{ role: 'user', content: 'And Rome?' }];
    assert.equal(loop([undefined], question), undefined);
    assert.equal(loop([SIGNED, undefined], question)?.kind, 'budget');
  });
});

describe("budget thinking in a tool loop whose turn used Anthropic's server tools", () => {
  // The Messages edge writes such a turn's thinking among its content, beside the search's
  // blocks (server_tool_use, web_search_tool_result), not as thinking_blocks.
  const search = [
    { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'q' } },
    { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] },
  ];
  const loop = (content: object[]) =>
    claudeThinking(
      parseChatRequest(
        {
          model: 'm',
          reasoning_effort: 'high',
          messages: [
            { role: 'user', content: 'Search, then run the script.' },
            {
              role: 'assistant',
              content,
              tool_calls: [
                { id: 'toolu_1', type: 'function', function: { name: 'run', arguments: '{}' } },
              ],
            },
            { role: 'tool', tool_call_id: 'toolu_1', content: 'done' },
          ],
        },
        { anthropicServerTools: new Set(ANTHROPIC_SERVER_TOOLS) },
      ),
      undefined,
      'claude-sonnet-4-5',
    );

  it('is kept when the turn begins with its signed thinking there', () => {
    const thought = { type: 'thinking', thinking: 'Search first.', signature: 'sig' };
    assert.equal(loop([thought, ...search])?.kind, 'budget');
  });

  it('is left out when the turn carries none', () => {
    assert.equal(loop(search), undefined);
  });
});
