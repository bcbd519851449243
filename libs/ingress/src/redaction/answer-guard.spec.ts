import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ResponseValidationConfig } from '@aigw/config';
import type { JsonAnswer, JsonObject, StreamAnswer, TokenUsage } from '@aigw/contracts/data-plane';
import {
  AnswerGuard,
  type AnswerBlock,
  type AnswerPart,
  type AnswerRedactions,
  type AnswerReport,
} from './answer-guard';
import type { RedactionTally } from './redactor';
import { StreamTail } from './stream-tail';
import { Redactor } from './redactor';
import { MessageStreamTranslator } from '../anthropic/domain/anthropic-stream';

const EMAIL = 'jane.doe@example.com';
const CARD = '4111 1111 1111 1111';
const KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789';
const IBAN = 'GB82 WEST 1234 5698 7654 32';
const SSN = '123-45-6789';

const CONFIG: ResponseValidationConfig = {
  blockPatterns: ['BEGIN PRIVATE KEY'],
  redact: {
    detectors: [
      { name: 'email', mode: 'redact' },
      { name: 'creditCard', mode: 'redact' },
      { name: 'apiKey', mode: 'redact' },
      { name: 'iban', mode: 'redact' },
      { name: 'usSsn', mode: 'block' },
    ],
    patterns: [{ name: 'employeeId', regex: 'EMP-[0-9]{6}', mode: 'redact' }],
  },
  streamHoldChars: 64,
};

const USAGE: TokenUsage = {
  inputTokens: 3,
  outputTokens: 5,
  cachedInputTokens: 0,
  source: 'reported',
};
const SERVED = { backend: 'b', provider: 'openai', model: 'm' };

// An Anthropic answer that searched and fetched (@aigw/contracts anthropic-server-tools):
// its readable text names EMAIL; what is encrypted or a URL names it too, and must pass.
const PAGE_URL = `https://example.com/people/${EMAIL}`;
const SEARCH_USE = {
  type: 'server_tool_use',
  id: 'srvtoolu_1',
  name: 'web_search',
  input: { query: `contact ${EMAIL}` },
};
const searchResult = (title: string) => ({
  type: 'web_search_tool_result',
  tool_use_id: 'srvtoolu_1',
  content: [{ type: 'web_search_result', url: PAGE_URL, title, encrypted_content: `enc ${EMAIL}` }],
});
const fetchResult = (data: string) => ({
  type: 'web_fetch_tool_result',
  tool_use_id: 'srvtoolu_2',
  content: {
    type: 'web_fetch_result',
    url: PAGE_URL,
    content: {
      type: 'document',
      source: { type: 'text', media_type: 'text/plain', data },
      title: 'People',
    },
  },
});
const FETCH_RESULT = fetchResult(`Write to ${EMAIL}.`);
const CODE_RESULT = {
  type: 'bash_code_execution_tool_result',
  tool_use_id: 'srvtoolu_3',
  content: {
    type: 'bash_code_execution_result',
    stdout: `${EMAIL}\n`,
    stderr: '',
    return_code: 0,
    content: [],
  },
};
const citation = (cited: string) => ({
  type: 'web_search_result_location',
  url: PAGE_URL,
  title: 'People',
  encrypted_index: `idx ${EMAIL}`,
  cited_text: cited,
});

class Recorder implements AnswerReport {
  readonly tallies: Map<string, number>[] = [];
  readonly parts: AnswerPart[] = [];
  readonly blocks: string[] = [];
  readonly blockParts: AnswerPart[] = [];
  redacted({ part, counts }: AnswerRedactions): void {
    this.tallies.push(new Map(counts));
    this.parts.push(part);
  }
  blocked({ rule, part }: AnswerBlock): void {
    this.blocks.push(rule);
    this.blockParts.push(part);
  }
  /** Matches of `rule` masked, in `part` or in any. */
  count(rule: string, part?: AnswerPart): number {
    return this.tallies.reduce(
      (sum, tally, i) =>
        sum + (part === undefined || this.parts[i] === part ? (tally.get(rule) ?? 0) : 0),
      0,
    );
  }
}

const chatJson = (content: unknown, extra: JsonObject = {}): JsonAnswer => ({
  kind: 'json',
  status: 200,
  body: {
    id: 'c1',
    object: 'chat.completion',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, ...extra },
        logprobs: { content: [] },
        finish_reason: 'stop',
      },
    ],
  },
  usage: USAGE,
  servedBy: SERVED,
});

function chunk(
  index: number,
  content: string | undefined,
  finish: string | null = null,
): JsonObject {
  return {
    id: 'c1',
    object: 'chat.completion.chunk',
    choices: [{ index, delta: content === undefined ? {} : { content }, finish_reason: finish }],
  };
}

const USAGE_CHUNK: JsonObject = {
  id: 'c1',
  object: 'chat.completion.chunk',
  choices: [],
  usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 },
};

async function* from(chunks: readonly JsonObject[]): AsyncGenerator<JsonObject> {
  for (const c of chunks) yield c;
}

async function streamed(
  guard: AnswerGuard,
  chunks: readonly JsonObject[],
  report: AnswerReport,
  operation: 'chat' | 'completions' = 'chat',
): Promise<JsonObject[]> {
  const answer: StreamAnswer = {
    kind: 'stream',
    status: 200,
    events: from(chunks),
    usage: Promise.resolve(USAGE),
    servedBy: SERVED,
  };
  const checked = guard.check(answer, operation, report);
  assert.equal(checked.kind, 'stream');
  const out: JsonObject[] = [];
  for await (const event of checked.events) out.push(event);
  return out;
}

/** Each choice's text as the client would join it, and its finish. */
function joined(chunks: readonly JsonObject[]): Map<number, { text: string; finish?: string }> {
  const out = new Map<number, { text: string; finish?: string }>();
  for (const c of chunks) {
    for (const choice of c.choices as JsonObject[]) {
      const entry = out.get(choice.index as number) ?? { text: '' };
      const delta = choice.delta as JsonObject | undefined;
      entry.text +=
        (delta?.content as string | undefined) ?? (choice.text as string | undefined) ?? '';
      if (choice.finish_reason) entry.finish = choice.finish_reason as string;
      out.set(choice.index as number, entry);
    }
  }
  return out;
}

describe('AnswerGuard on JSON answers', () => {
  const guard = new AnswerGuard(CONFIG);

  it('redacts message content with the prompt detectors, drops logprobs, counts by rule', () => {
    const report = new Recorder();
    const answer = guard.check(
      chatJson(`Mail ${EMAIL}, card ${CARD}, key ${KEY}, IBAN ${IBAN}, id EMP-123456.`),
      'chat',
      report,
    ) as JsonAnswer;
    const choice = (answer.body.choices as JsonObject[])[0];
    assert.equal(
      (choice.message as JsonObject).content,
      'Mail [REDACTED:email], card [REDACTED:creditCard], key [REDACTED:apiKey], ' +
        'IBAN [REDACTED:iban], id [REDACTED:employeeId].',
    );
    assert.equal(choice.logprobs, null);
    assert.equal(choice.finish_reason, 'stop');
    assert.deepEqual(report.tallies, [
      new Map([
        ['employeeId', 1],
        ['apiKey', 1],
        ['email', 1],
        ['iban', 1],
        ['creditCard', 1],
      ]),
    ]);
  });

  it('redacts text parts and completions text; leaves tool-call arguments as they are', () => {
    const report = new Recorder();
    const calls = [
      { id: 't', type: 'function', function: { name: 'send', arguments: `{"to":"${EMAIL}"}` } },
    ];
    const parts = guard.check(
      chatJson(
        [
          { type: 'text', text: `to ${EMAIL}` },
          { type: 'image_url', image_url: { url: 'x' } },
        ],
        {
          tool_calls: calls,
        },
      ),
      'chat',
      report,
    ) as JsonAnswer;
    const message = (parts.body.choices as JsonObject[])[0].message as JsonObject;
    assert.deepEqual(message.content, [
      { type: 'text', text: 'to [REDACTED:email]' },
      { type: 'image_url', image_url: { url: 'x' } },
    ]);
    assert.deepEqual(message.tool_calls, calls);
    const completion = guard.check(
      {
        ...chatJson(null),
        body: { choices: [{ index: 0, text: `key ${KEY}`, finish_reason: 'stop' }] },
      },
      'completions',
      report,
    ) as JsonAnswer;
    assert.equal((completion.body.choices as JsonObject[])[0].text, 'key [REDACTED:apiKey]');
  });

  it('a block match withholds the choice with finish_reason content_filter, never the text', () => {
    for (const text of [`Your SSN is ${SSN}.`, '-----BEGIN PRIVATE KEY-----\nMIIE']) {
      const report = new Recorder();
      const answer = guard.check(chatJson(text), 'chat', report) as JsonAnswer;
      const choice = (answer.body.choices as JsonObject[])[0];
      assert.deepEqual(choice.message, { role: 'assistant', content: null });
      assert.equal(choice.finish_reason, 'content_filter');
      assert.equal(choice.logprobs, null);
      assert.equal(JSON.stringify(answer.body).includes(SSN), false);
      assert.deepEqual(report.blocks, [text.startsWith('Your') ? 'usSsn' : 'blockPatterns[0]']);
    }
    const report = new Recorder();
    const completion = guard.check(
      {
        ...chatJson(null),
        body: { choices: [{ index: 0, text: `ssn ${SSN}`, finish_reason: 'stop' }] },
      },
      'completions',
      report,
    ) as JsonAnswer;
    assert.deepEqual((completion.body.choices as JsonObject[])[0], {
      index: 0,
      text: '',
      logprobs: null,
      finish_reason: 'content_filter',
    });
  });

  it("checks a refusal's text like content: redacted, or the choice withheld", () => {
    const report = new Recorder();
    const answer = guard.check(
      chatJson(null, { refusal: `I cannot email ${EMAIL}.` }),
      'chat',
      report,
    ) as JsonAnswer;
    const choice = (answer.body.choices as JsonObject[])[0];
    assert.deepEqual(choice.message, {
      role: 'assistant',
      content: null,
      refusal: 'I cannot email [REDACTED:email].',
    });
    assert.equal(choice.logprobs, null);
    assert.equal(report.count('email'), 1);
    const blocking = new Recorder();
    const withheld = guard.check(
      chatJson(null, { refusal: `Not with SSN ${SSN}.` }),
      'chat',
      blocking,
    ) as JsonAnswer;
    const gone = (withheld.body.choices as JsonObject[])[0];
    assert.deepEqual(gone.message, { role: 'assistant', content: null });
    assert.equal(gone.finish_reason, 'content_filter');
    assert.deepEqual(blocking.blocks, ['usSsn']);
  });

  it('masks reasoning text and thinking blocks, keeps signatures and redacted blocks, counts once', () => {
    const report = new Recorder();
    const signed = { type: 'thinking', thinking: `Mail ${EMAIL}?`, signature: 'sig-1' };
    const opaque = { type: 'redacted_thinking', data: `enc-${EMAIL}` };
    const answer = guard.check(
      chatJson('ok', { reasoning_content: `Mail ${EMAIL}?`, thinking_blocks: [signed, opaque] }),
      'chat',
      report,
    ) as JsonAnswer;
    const choice = (answer.body.choices as JsonObject[])[0];
    assert.deepEqual(choice.message, {
      role: 'assistant',
      content: 'ok',
      reasoning_content: 'Mail [REDACTED:email]?',
      thinking_blocks: [
        { type: 'thinking', thinking: 'Mail [REDACTED:email]?', signature: 'sig-1' },
        opaque,
      ],
    });
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(report.count('email'), 1, 'the blocks repeat the reasoning text');
    // `reasoning` (vLLM, Groq, OpenRouter), and blocks with no reasoning text beside them.
    const other = new Recorder();
    const vllm = guard.check(
      chatJson('ok', { reasoning: `key ${KEY}` }),
      'chat',
      other,
    ) as JsonAnswer;
    assert.equal(
      ((vllm.body.choices as JsonObject[])[0].message as JsonObject).reasoning,
      'key [REDACTED:apiKey]',
    );
    const alone = guard.check(chatJson('ok', { thinking_blocks: [signed] }), 'chat', other);
    assert.deepEqual(((alone as JsonAnswer).body.choices as JsonObject[])[0].message, {
      role: 'assistant',
      content: 'ok',
      thinking_blocks: [{ ...signed, thinking: 'Mail [REDACTED:email]?' }],
    });
    assert.equal(other.count('apiKey'), 1);
    assert.equal(other.count('email'), 1);
    // Nothing to mask: the very same answer.
    const clean = chatJson('ok', { reasoning_content: 'fine', thinking_blocks: [opaque] });
    assert.equal(guard.check(clean, 'chat', new Recorder()), clean);
  });

  it('a block match in reasoning withholds the choice as one in content does', () => {
    for (const extra of [
      { reasoning_content: `The SSN is ${SSN}.` },
      { reasoning: '-----BEGIN PRIVATE KEY-----' },
      { thinking_blocks: [{ type: 'thinking', thinking: `SSN ${SSN}`, signature: 's' }] },
    ]) {
      const report = new Recorder();
      const answer = guard.check(chatJson('harmless', extra), 'chat', report) as JsonAnswer;
      const choice = (answer.body.choices as JsonObject[])[0];
      assert.deepEqual(choice.message, { role: 'assistant', content: null });
      assert.equal(choice.finish_reason, 'content_filter');
      assert.equal(report.blocks.length, 1);
      assert.equal(JSON.stringify(answer).includes('6789'), false);
    }
  });

  it("OpenRouter's reasoning_details: text and summary masked, encrypted data as it came", () => {
    const encrypted = { type: 'reasoning.encrypted', data: `enc-${EMAIL}`, id: 'r1', index: 2 };
    const details = [
      { type: 'reasoning.text', text: `Mail ${EMAIL}?`, signature: 'sig', format: 'f', index: 0 },
      { type: 'reasoning.summary', summary: `Use ${KEY}.`, format: 'f', index: 1 },
      encrypted,
      { type: 'reasoning.other', text: `not ours ${EMAIL}` },
    ];
    const report = new Recorder();
    const answer = guard.check(
      chatJson('ok', { reasoning_details: details }),
      'chat',
      report,
    ) as JsonAnswer;
    const message = (answer.body.choices as JsonObject[])[0].message as JsonObject;
    assert.deepEqual(message.reasoning_details, [
      { ...details[0], text: 'Mail [REDACTED:email]?' },
      { ...details[1], summary: 'Use [REDACTED:apiKey].' },
      encrypted,
      details[3],
    ]);
    assert.equal((message.reasoning_details as unknown[])[2], encrypted, 'the very same entry');
    assert.equal(report.count('email'), 1);
    assert.equal(report.count('apiKey'), 1);
    // Beside the flat reasoning text it repeats, its matches are counted once.
    const both = new Recorder();
    guard.check(
      chatJson('ok', { reasoning: `Mail ${EMAIL}?`, reasoning_details: [details[0]] }),
      'chat',
      both,
    );
    assert.equal(both.count('email'), 1);
    // A block match in one withholds the choice; only encrypted entries: the same answer.
    const blocking = new Recorder();
    const withheld = guard.check(
      chatJson('ok', { reasoning_details: [{ type: 'reasoning.summary', summary: `SSN ${SSN}` }] }),
      'chat',
      blocking,
    ) as JsonAnswer;
    const gone = (withheld.body.choices as JsonObject[])[0];
    assert.equal(gone.finish_reason, 'content_filter');
    assert.equal(JSON.stringify(withheld).includes('6789'), false);
    assert.deepEqual(blocking.blocks, ['usSsn']);
    const opaque = chatJson('ok', { reasoning_details: [encrypted] });
    assert.equal(guard.check(opaque, 'chat', new Recorder()), opaque);
  });

  it('reports matches in content and in reasoning apart, masked and blocking', () => {
    const report = new Recorder();
    guard.check(
      chatJson(`Mail ${EMAIL}`, { reasoning_content: `Mail ${EMAIL} with ${KEY}` }),
      'chat',
      report,
    );
    assert.deepEqual(report.parts, ['content', 'reasoning']);
    assert.equal(report.count('email', 'content'), 1);
    assert.equal(report.count('email', 'reasoning'), 1);
    assert.equal(report.count('apiKey', 'reasoning'), 1);
    assert.equal(report.count('apiKey', 'content'), 0);
    const details = new Recorder();
    guard.check(
      chatJson('ok', { reasoning_details: [{ type: 'reasoning.text', text: EMAIL }] }),
      'chat',
      details,
    );
    guard.check(
      chatJson('ok', { thinking_blocks: [{ type: 'thinking', thinking: EMAIL }] }),
      'chat',
      details,
    );
    assert.deepEqual(details.parts, ['reasoning', 'reasoning']);
    for (const [extra, content, part] of [
      [{ reasoning: SSN }, 'fine', 'reasoning'],
      [{ reasoning_details: [{ type: 'reasoning.summary', summary: SSN }] }, 'fine', 'reasoning'],
      [{ reasoning: 'fine' }, SSN, 'content'],
      [{ refusal: SSN }, null, 'content'],
    ] as const) {
      const blocking = new Recorder();
      guard.check(chatJson(content, extra), 'chat', blocking);
      assert.deepEqual(blocking.blockParts, [part], JSON.stringify(extra));
    }
    const completion = new Recorder();
    const text = { ...chatJson(null), body: { choices: [{ index: 0, text: `${EMAIL} ${SSN}` }] } };
    guard.check(text, 'completions', completion);
    assert.deepEqual(completion.blockParts, ['content']);
  });

  it('a block rule wins over a mask it overlaps: the choice is withheld, not masked', () => {
    const overlapping = new AnswerGuard({ ...CONFIG, blockPatterns: ['token=\\S+'] });
    const report = new Recorder();
    const answer = overlapping.check(chatJson(`Use token=${KEY} now.`), 'chat', report);
    const choice = ((answer as JsonAnswer).body.choices as JsonObject[])[0];
    assert.equal(choice.finish_reason, 'content_filter');
    assert.deepEqual(report.blocks, ['blockPatterns[0]']);
    assert.equal(report.count('apiKey'), 0, 'the key it contained is not counted as masked');
  });

  it("checks a server tool's readable text and the thinking among its blocks; encrypted parts, URLs and signatures pass", () => {
    const report = new Recorder();
    const thinking = { type: 'thinking', thinking: `Look up ${EMAIL}.`, signature: 'sig' };
    const redacted = { type: 'redacted_thinking', data: `enc ${EMAIL}` };
    const content = [
      thinking,
      SEARCH_USE,
      searchResult(`${EMAIL} - profile`),
      redacted,
      FETCH_RESULT,
      CODE_RESULT,
      { type: 'text', text: 'Found.', citations: [citation(`Mail ${EMAIL}.`)] },
    ];
    const out = guard.check(
      chatJson(content, { reasoning_content: `Look up ${EMAIL}.` }),
      'chat',
      report,
    ) as JsonAnswer;
    const message = (out.body.choices as JsonObject[])[0].message as JsonObject;
    const mask = '[REDACTED:email]';
    assert.deepEqual(message.content, [
      { ...thinking, thinking: `Look up ${mask}.` },
      { ...SEARCH_USE, input: { query: `contact ${mask}` } },
      searchResult(`${mask} - profile`),
      redacted,
      fetchResult(`Write to ${mask}.`),
      { ...CODE_RESULT, content: { ...CODE_RESULT.content, stdout: `${mask}\n` } },
      { type: 'text', text: 'Found.', citations: [citation(`Mail ${mask}.`)] },
    ]);
    assert.equal(message.reasoning_content, `Look up ${mask}.`);
    // The thinking block repeats the reasoning text: its match is counted once.
    assert.equal(report.count('email', 'reasoning'), 1);
    assert.equal(report.count('email', 'content'), 5);
  });

  it("a block match in a server tool's result or a cited text withholds the choice", () => {
    for (const content of [
      [SEARCH_USE, searchResult(`SSN ${SSN}`)],
      [SEARCH_USE, { type: 'text', text: 'Found.', citations: [citation(`SSN ${SSN}`)] }],
    ]) {
      const report = new Recorder();
      const out = guard.check(chatJson(content), 'chat', report) as JsonAnswer;
      const choice = (out.body.choices as JsonObject[])[0];
      assert.equal(choice.finish_reason, 'content_filter');
      assert.deepEqual(choice.message, { role: 'assistant', content: null });
      assert.deepEqual(report.blocks, ['usSsn']);
      assert.deepEqual(report.blockParts, ['content']);
    }
  });

  it('an answer with nothing to mask is the very same object, and nothing is reported', () => {
    const report = new Recorder();
    const answer = chatJson('Nothing to see: version 1.2.3, order 4155552671.');
    assert.equal(guard.check(answer, 'chat', report), answer);
    assert.deepEqual(report.tallies, []);
    assert.deepEqual(report.blocks, []);
  });
});

describe('StreamTail', () => {
  const scanner = new Redactor(CONFIG.redact!, CONFIG.blockPatterns);
  const TEXT = `Hello. Mail ${EMAIL} or pay with ${CARD}; the key is ${KEY} and the IBAN ${IBAN}. Bye EMP-654321!`;
  const EXPECTED =
    'Hello. Mail [REDACTED:email] or pay with [REDACTED:creditCard]; the key is [REDACTED:apiKey] ' +
    'and the IBAN [REDACTED:iban]. Bye [REDACTED:employeeId]!';

  function run(pieces: readonly string[], hold = 64): { text: string; tally: RedactionTally } {
    const tally: RedactionTally = new Map();
    const tail = new StreamTail(scanner, hold, tally);
    let text = '';
    for (const piece of pieces) {
      const step = tail.push(piece);
      assert.equal(step.blocked, undefined);
      text += step.text;
    }
    const last = tail.flush();
    assert.equal(last.blocked, undefined);
    return { text: text + last.text, tally };
  }

  it('catches every match however the text is split in two or three chunks', () => {
    for (let i = 0; i <= TEXT.length; i++) {
      const two = run([TEXT.slice(0, i), TEXT.slice(i)]);
      assert.equal(two.text, EXPECTED, `split at ${i}`);
      assert.equal(
        [...two.tally.values()].reduce((a, b) => a + b),
        5,
        `split at ${i}`,
      );
      const j = Math.min(TEXT.length, i + 7);
      assert.equal(run([TEXT.slice(0, i), TEXT.slice(i, j), TEXT.slice(j)]).text, EXPECTED);
    }
  });

  it('one character per chunk, with the smallest hold that fits the longest match', () => {
    assert.equal(run([...TEXT], KEY.length + 1).text, EXPECTED);
  });

  it('a secret longer than the hold is masked whole, its tail never released', () => {
    const long = `sk-svcacct-${'A1b2C3d4'.repeat(40)}`;
    const text = `token ${long} end`;
    for (const size of [1, 5, 17, 64]) {
      const pieces: string[] = [];
      for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
      const { text: out, tally } = run(pieces, 64);
      assert.equal(out, 'token [REDACTED:apiKey] end', `chunks of ${size}`);
      assert.equal(tally.get('apiKey'), 1);
    }
  });

  it('a JWT longer than the hold is masked whole: it is a match from its payload on', () => {
    // An ID token: header, an 800-character payload (claims, PII), signature.
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    const jwt = [
      b64('{"alg":"RS256","kid":"k1","typ":"JWT"}'),
      b64(JSON.stringify({ sub: '1234567890', email: 'jane@example.com', pad: 'x'.repeat(560) })),
      'S'.repeat(342),
    ].join('.');
    const text = `Your token is ${jwt} (keep it safe).`;
    for (const size of [1, 5, 40]) {
      const pieces: string[] = [];
      for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
      const { text: out, tally } = run(pieces, 256);
      assert.equal(out, 'Your token is [REDACTED:apiKey] (keep it safe).', `chunks of ${size}`);
      assert.equal(tally.get('apiKey'), 1);
    }
  });

  it('never releases half of a surrogate pair (emoji, rare CJK)', () => {
    const text = `Mail ${EMAIL} 😀🎉 ${'𠜎😀x'.repeat(30)} done`;
    for (const size of [1, 2, 3, 7]) {
      const tail = new StreamTail(scanner, 24, new Map());
      const steps: string[] = [];
      for (let i = 0; i < text.length; i += size)
        steps.push(tail.push(text.slice(i, i + size)).text);
      steps.push(tail.flush().text);
      const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
      for (const step of steps) assert.doesNotMatch(step, lone, `chunks of ${size}`);
      assert.equal(steps.join(''), text.replace(EMAIL, '[REDACTED:email]'));
    }
  });

  it("keeping a pair whole never cuts into a match an operator's pattern ends mid-pair", () => {
    // Without the u flag '.' takes one UTF-16 unit: this match ends between a pair's halves.
    const custom = new Redactor({
      detectors: [],
      patterns: [{ name: 'z', regex: 'Z{24}.', mode: 'redact' }],
    });
    const tail = new StreamTail(custom, 24, new Map());
    let out = tail.push(`ab ${'Z'.repeat(21)}`).text;
    out += tail.push('ZZZ😀 and').text;
    out += tail.push(' some more text after it').text + tail.flush().text;
    assert.doesNotMatch(out, /Z/);
    assert.match(out, /^ab \[REDACTED:z\]/);
  });

  it('releases text once more than the hold has arrived, never more than it must keep', () => {
    const tally: RedactionTally = new Map();
    const tail = new StreamTail(scanner, 16, tally);
    assert.equal(tail.push('a'.repeat(16)).text, '');
    assert.equal(tail.push(' and more text').text, 'a'.repeat(14));
  });

  it('a block match is cut where it starts, whichever chunk it begins in', () => {
    const text = `Here it is: ${SSN} and then more words after it.`;
    for (let i = 0; i <= text.length; i++) {
      const tally: RedactionTally = new Map();
      const tail = new StreamTail(scanner, 16, tally);
      let out = '';
      let blocked: string | undefined;
      for (const piece of [text.slice(0, i), text.slice(i)]) {
        const step = tail.push(piece);
        out += step.text;
        blocked ??= step.blocked;
        if (blocked) break;
      }
      if (!blocked) {
        const step = tail.flush();
        out += step.text;
        blocked = step.blocked;
      }
      assert.equal(blocked, 'usSsn', `split at ${i}`);
      assert.equal(out, 'Here it is: ', `split at ${i}`);
    }
  });
});

describe('AnswerGuard on streams', () => {
  const guard = new AnswerGuard(CONFIG);

  it('a match split across chunks reaches the client masked; usage and finish pass', async () => {
    const text = `Write to ${EMAIL} today, or ring me.`;
    for (let i = 1; i < text.length; i++) {
      const report = new Recorder();
      const chunks = [
        {
          ...chunk(0, ''),
          choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
        },
        chunk(0, text.slice(0, i)),
        chunk(0, text.slice(i)),
        chunk(0, undefined, 'stop'),
        USAGE_CHUNK,
      ];
      const out = await streamed(guard, chunks, report);
      assert.deepEqual(joined(out).get(0), {
        text: 'Write to [REDACTED:email] today, or ring me.',
        finish: 'stop',
      });
      assert.deepEqual(out.at(-1), USAGE_CHUNK);
      assert.deepEqual((out[0].choices as JsonObject[])[0].delta, {
        role: 'assistant',
        content: '',
      });
      assert.equal(report.count('email'), 1);
    }
  });

  it('a block match mid-stream ends the choice with content_filter and drops the rest; usage still comes', async () => {
    const report = new Recorder();
    const before = 'x'.repeat(100) + ' Your number is ';
    const chunks = [
      chunk(0, before + SSN.slice(0, 5)),
      chunk(0, SSN.slice(5) + ' and ' + 'y'.repeat(100)),
      chunk(0, 'more text that must not arrive'),
      chunk(0, undefined, 'stop'),
      USAGE_CHUNK,
    ];
    const out = await streamed(guard, chunks, report);
    const choice = joined(out).get(0)!;
    assert.equal(choice.finish, 'content_filter');
    assert.equal(choice.text, before);
    assert.equal(JSON.stringify(out).includes('6789'), false);
    assert.equal(JSON.stringify(out).includes('must not arrive'), false);
    assert.equal(
      out.filter((c) => (c.choices as JsonObject[]).some((x) => x.finish_reason)).length,
      1,
    );
    assert.deepEqual(out.at(-1), USAGE_CHUNK);
    assert.deepEqual(report.blocks, ['usSsn']);
  });

  it('a stream that ends without a finish still gets its held text, checked', async () => {
    const report = new Recorder();
    const out = await streamed(guard, [chunk(0, `mail ${EMAIL}`)], report);
    assert.equal(joined(out).get(0)!.text, 'mail [REDACTED:email]');
  });

  it('completions streams: the text field is held and checked the same way', async () => {
    const report = new Recorder();
    const pieces = ['key: sk-proj-abcdefghij', 'klmnopqrstuvwxyz0123456789', ' end'];
    const out = await streamed(
      guard,
      [
        ...pieces.map((text) => ({ id: 'c', choices: [{ index: 0, text, finish_reason: null }] })),
        { id: 'c', choices: [{ index: 0, text: '', finish_reason: 'stop' }] },
      ],
      report,
      'completions',
    );
    assert.deepEqual(joined(out).get(0), { text: 'key: [REDACTED:apiKey] end', finish: 'stop' });
  });

  it('text held back goes out before a tool call that follows it, not after', async () => {
    const report = new Recorder();
    const call = { index: 0, id: 't', type: 'function', function: { name: 'f', arguments: '{}' } };
    const out = await streamed(
      guard,
      [
        chunk(0, 'Let me look that up.'),
        { id: 'c1', choices: [{ index: 0, delta: { tool_calls: [call] }, finish_reason: null }] },
        chunk(0, undefined, 'tool_calls'),
      ],
      report,
    );
    assert.deepEqual((out[0].choices as JsonObject[])[0].delta, {
      tool_calls: [call],
      content: 'Let me look that up.',
    });
    assert.equal(out.length, 2);
  });

  it("text held back keeps its place beside a server tool's blocks and cited texts (Messages)", async () => {
    const report = new Recorder();
    const delta = (d: JsonObject, finish: string | null = null): JsonObject => ({
      id: 'c1',
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: d, finish_reason: finish }],
    });
    const use = {
      type: 'server_tool_use',
      id: 'srvtoolu_1',
      name: 'web_search',
      input: { query: 'q' },
    };
    const result = { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] };
    const cite = {
      type: 'web_search_result_location',
      url: 'https://example.com',
      cited_text: 'c',
    };
    const out = await streamed(
      guard,
      [
        delta({ content: `Let me search, ${EMAIL}.` }),
        delta({ server_tool_blocks: [use] }),
        delta({ server_tool_blocks: [result] }),
        delta({ content: 'Here is what I found. ' }),
        delta({ citations: [cite] }),
        delta({ content: 'Cited.' }),
        delta({ citations: [] }),
        delta({ content: 'Uncited.' }),
        delta({}, 'stop'),
        USAGE_CHUNK,
      ],
      report,
    );
    const translator = new MessageStreamTranslator(
      { model: 'claude', stream: true, stopSequences: [] },
      'r',
    );
    const events = [...out.flatMap((c) => translator.push(c)), ...translator.finish(USAGE)];
    const blocks: string[] = [];
    for (const event of events) {
      if (event.type === 'content_block_start') blocks.push(event.content_block.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
        blocks[blocks.length - 1] += `:${event.delta.text}`;
      }
      if (event.type === 'content_block_delta' && event.delta.type === 'citations_delta') {
        blocks[blocks.length - 1] += ':cited';
      }
    }
    assert.deepEqual(blocks, [
      'text:Let me search, [REDACTED:email].',
      'server_tool_use',
      'web_search_tool_result',
      'text:Here is what I found. ',
      'text:cited:Cited.',
      'text:Uncited.',
    ]);
    assert.equal(report.count('email'), 1);
    assert.ok(out.every((c) => c.usage === undefined || c === out.at(-1)));
  });

  it("a streamed server tool's blocks and citations are checked whole; a block match ends the choice", async () => {
    const delta = (d: JsonObject, finish: string | null = null): JsonObject => ({
      id: 'c1',
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: d, finish_reason: finish }],
    });
    const mask = '[REDACTED:email]';
    const report = new Recorder();
    const out = await streamed(
      guard,
      [
        delta({ content: 'Searching.' }),
        delta({ server_tool_blocks: [SEARCH_USE] }),
        delta({ server_tool_blocks: [searchResult(`${EMAIL} - profile`), FETCH_RESULT] }),
        delta({ citations: [citation(`Mail ${EMAIL}.`)] }),
        delta({ content: 'Found.' }),
        delta({}, 'stop'),
        USAGE_CHUNK,
      ],
      report,
    );
    const deltas = out.flatMap((c) => (c.choices as JsonObject[]).map((ch) => ch.delta));
    assert.deepEqual(deltas, [
      { content: 'Searching.' },
      { server_tool_blocks: [{ ...SEARCH_USE, input: { query: `contact ${mask}` } }] },
      {
        server_tool_blocks: [searchResult(`${mask} - profile`), fetchResult(`Write to ${mask}.`)],
      },
      { citations: [citation(`Mail ${mask}.`)] },
      // Held to the end, it goes with the finish.
      { content: 'Found.' },
    ]);
    assert.equal(report.count('email', 'content'), 4);

    const blocking = new Recorder();
    const cut = await streamed(
      guard,
      [
        delta({ content: 'Searching.' }),
        delta({ server_tool_blocks: [SEARCH_USE] }),
        delta({ server_tool_blocks: [searchResult(`SSN ${SSN}`)] }),
        delta({ content: 'Found.' }),
        delta({}, 'stop'),
        USAGE_CHUNK,
      ],
      blocking,
    );
    const choices = cut.flatMap((c) => c.choices as JsonObject[]);
    assert.deepEqual(
      choices.map((ch) => [ch.delta, ch.finish_reason]),
      [
        [{ content: 'Searching.' }, null],
        [{ server_tool_blocks: [{ ...SEARCH_USE, input: { query: `contact ${mask}` } }] }, null],
        [{}, 'content_filter'],
      ],
    );
    assert.ok(!JSON.stringify(cut).includes(SSN));
    assert.deepEqual(blocking.blocks, ['usSsn']);
    assert.equal(cut.at(-1)?.usage !== undefined, true);
  });

  it('a refusal is held and checked like content, per choice', async () => {
    const report = new Recorder();
    const refusal = (index: number, text: string): JsonObject => ({
      id: 'c1',
      object: 'chat.completion.chunk',
      choices: [{ index, delta: { refusal: text }, finish_reason: null }],
    });
    const out = await streamed(
      guard,
      [
        {
          id: 'c1',
          object: 'chat.completion.chunk',
          choices: [
            {
              index: 0,
              delta: { role: 'assistant', content: '', refusal: null },
              finish_reason: null,
            },
          ],
        },
        {
          id: 'c1',
          object: 'chat.completion.chunk',
          choices: [
            { index: 0, delta: { reasoning_content: `mail ${EMAIL}` }, finish_reason: null },
          ],
        },
        refusal(0, 'I will not write to jane.doe@exa'),
        refusal(1, `Not ${SSN.slice(0, 6)}`),
        refusal(0, 'mple.com.'),
        refusal(1, `${SSN.slice(6)} or more`),
        chunk(0, undefined, 'stop'),
        chunk(1, undefined, 'stop'),
        USAGE_CHUNK,
      ],
      report,
    );
    const refused = new Map<number, { text: string; finish?: string }>();
    for (const c of out) {
      for (const choice of c.choices as JsonObject[]) {
        const entry = refused.get(choice.index as number) ?? { text: '' };
        const delta = choice.delta as JsonObject;
        if (typeof delta.refusal === 'string') entry.text += delta.refusal;
        if (choice.finish_reason) entry.finish = choice.finish_reason as string;
        refused.set(choice.index as number, entry);
      }
    }
    assert.deepEqual(refused.get(0), {
      text: 'I will not write to [REDACTED:email].',
      finish: 'stop',
    });
    assert.deepEqual(refused.get(1), { text: 'Not ', finish: 'content_filter' });
    assert.equal(JSON.stringify(out).includes('6789'), false);
    assert.ok(JSON.stringify(out).includes('mail [REDACTED:email]'), 'reasoning checked');
    assert.deepEqual(report.blocks, ['usSsn']);
    assert.deepEqual(out.at(-1), USAGE_CHUNK);
  });

  const reasoningChunk = (delta: JsonObject, finish: string | null = null): JsonObject => ({
    id: 'c1',
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, finish_reason: finish }],
  });

  it('reasoning is held and masked, released before the answer and the signature', async () => {
    const text = `I could mail ${EMAIL} now.`;
    for (let i = 1; i < text.length; i++) {
      const report = new Recorder();
      const signature = { type: 'thinking', thinking: '', signature: 'sig-1' };
      const out = await streamed(
        guard,
        [
          reasoningChunk({ role: 'assistant', content: '' }),
          reasoningChunk({ reasoning_content: text.slice(0, i) }),
          reasoningChunk({ reasoning_content: text.slice(i) }),
          reasoningChunk({ thinking_blocks: [signature] }),
          chunk(0, 'Done.'),
          chunk(0, undefined, 'stop'),
          USAGE_CHUNK,
        ],
        report,
      );
      // In order: every reasoning fragment, then the signature, then the answer.
      const seen: string[] = [];
      for (const c of out) {
        for (const choice of c.choices as JsonObject[]) {
          const delta = choice.delta as JsonObject;
          if (delta.reasoning_content) seen.push(`r:${delta.reasoning_content as string}`);
          if (delta.thinking_blocks) seen.push(`s:${JSON.stringify(delta.thinking_blocks)}`);
          if (delta.content) seen.push(`c:${delta.content as string}`);
        }
      }
      const reasoning = seen.filter((s) => s.startsWith('r:')).map((s) => s.slice(2));
      assert.equal(reasoning.join(''), 'I could mail [REDACTED:email] now.');
      assert.deepEqual(seen.slice(reasoning.length), [
        `s:${JSON.stringify([signature])}`,
        'c:Done.',
      ]);
      assert.equal(report.count('email'), 1);
      assert.deepEqual(out.at(-1), USAGE_CHUNK);
    }
  });

  it('a block match in streamed reasoning ends the choice with content_filter; usage still comes', async () => {
    const report = new Recorder();
    const out = await streamed(
      guard,
      [
        reasoningChunk({ reasoning: 'Thinking: the SSN is 123-' }),
        reasoningChunk({ reasoning: '45-6789, so' }),
        chunk(0, 'The answer must not arrive.'),
        chunk(0, undefined, 'stop'),
        USAGE_CHUNK,
      ],
      report,
    );
    const text = JSON.stringify(out);
    assert.equal(text.includes('6789'), false);
    assert.equal(text.includes('must not arrive'), false);
    assert.deepEqual(joined(out).get(0), { text: '', finish: 'content_filter' });
    assert.ok(text.includes('Thinking: the SSN is '), 'the reasoning before the match goes out');
    assert.deepEqual(report.blocks, ['usSsn']);
    assert.deepEqual(out.at(-1), USAGE_CHUNK);
  });

  it('a streamed thinking block with text is checked whole; a redacted one passes', async () => {
    const report = new Recorder();
    const opaque = { type: 'redacted_thinking', data: `enc-${EMAIL}` };
    const out = await streamed(
      guard,
      [
        reasoningChunk({
          thinking_blocks: [
            { type: 'thinking', thinking: `mail ${EMAIL}`, signature: 's' },
            opaque,
          ],
        }),
        chunk(0, 'ok', 'stop'),
      ],
      report,
    );
    assert.deepEqual((out[0].choices as JsonObject[])[0].delta, {
      thinking_blocks: [
        { type: 'thinking', thinking: 'mail [REDACTED:email]', signature: 's' },
        opaque,
      ],
    });
    assert.equal(report.count('email'), 1);
    const blocking = new Recorder();
    const withheld = await streamed(
      guard,
      [
        reasoningChunk({ thinking_blocks: [{ type: 'thinking', thinking: SSN, signature: 's' }] }),
        chunk(0, 'ok', 'stop'),
      ],
      blocking,
    );
    assert.equal(JSON.stringify(withheld).includes(SSN), false);
    assert.equal(joined(withheld).get(0)?.finish, 'content_filter');
    assert.deepEqual(blocking.blocks, ['usSsn']);
    // The block and the answer in one chunk: the answer is withheld with it.
    const together = await streamed(
      guard,
      [
        reasoningChunk(
          {
            thinking_blocks: [{ type: 'thinking', thinking: SSN, signature: 's' }],
            content: 'said',
          },
          'stop',
        ),
      ],
      new Recorder(),
    );
    assert.deepEqual(joined(together).get(0), { text: '', finish: 'content_filter' });
  });

  /** The text of each reasoning_details entry (by type and index) as a client joins it. */
  const joinedDetails = (chunks: readonly JsonObject[]): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const c of chunks) {
      for (const choice of c.choices as JsonObject[]) {
        const entries = ((choice.delta as JsonObject).reasoning_details ?? []) as JsonObject[];
        for (const e of entries) {
          const key = `${e.type as string}:${e.index as number}`;
          out[key] = (out[key] ?? '') + ((e.text ?? e.summary ?? e.data ?? '') as string);
        }
      }
    }
    return out;
  };

  it('streamed reasoning_details are held and masked per entry; encrypted ones pass', async () => {
    const text = `I could mail ${EMAIL} now.`;
    const summary = `Key ${KEY} used.`;
    const encrypted = { type: 'reasoning.encrypted', data: `enc-${EMAIL}`, index: 2 };
    for (const i of [1, 15, 22, text.length - 1]) {
      const report = new Recorder();
      const entry = (t: string, extra: JsonObject = {}) => ({
        type: 'reasoning.text',
        text: t,
        format: 'anthropic-claude-v1',
        index: 0,
        ...extra,
      });
      const out = await streamed(
        guard,
        [
          reasoningChunk({
            reasoning: text.slice(0, i),
            reasoning_details: [entry(text.slice(0, i))],
          }),
          reasoningChunk({ reasoning: text.slice(i), reasoning_details: [entry(text.slice(i))] }),
          reasoningChunk({ reasoning_details: [entry('', { signature: 'sig-1' })] }),
          reasoningChunk({
            reasoning: summary.slice(0, 8),
            reasoning_details: [
              { type: 'reasoning.summary', summary: summary.slice(0, 8), index: 1 },
              encrypted,
            ],
          }),
          reasoningChunk({
            reasoning: summary.slice(8),
            reasoning_details: [{ type: 'reasoning.summary', summary: summary.slice(8), index: 1 }],
          }),
          chunk(0, 'Done.', 'stop'),
          USAGE_CHUNK,
        ],
        report,
      );
      assert.deepEqual(joinedDetails(out), {
        'reasoning.text:0': 'I could mail [REDACTED:email] now.',
        'reasoning.summary:1': 'Key [REDACTED:apiKey] used.',
        'reasoning.encrypted:2': `enc-${EMAIL}`,
      });
      const all = JSON.stringify(out);
      assert.equal(all.split(EMAIL).length - 1, 1, 'only in the encrypted entry');
      assert.equal(all.includes(KEY), false);
      // The held text goes out before (with) the signature, and the signature as it came.
      const signed = out.findIndex((c) => JSON.stringify(c).includes('sig-1'));
      assert.ok(signed >= 0);
      const before = joinedDetails(out.slice(0, signed + 1))['reasoning.text:0'];
      assert.equal(before, 'I could mail [REDACTED:email] now.');
      assert.equal(report.count('email'), 1, 'the details repeat the reasoning text');
      assert.equal(report.count('apiKey'), 1);
      assert.deepEqual(out.at(-1), USAGE_CHUNK);
    }
  });

  it('a block match in streamed reasoning_details ends the choice; a held one goes at the end', async () => {
    const report = new Recorder();
    const out = await streamed(
      guard,
      [
        reasoningChunk({
          reasoning_details: [{ type: 'reasoning.text', text: 'SSN 123-', index: 0 }],
        }),
        reasoningChunk({
          reasoning_details: [{ type: 'reasoning.text', text: '45-6789 ok', index: 0 }],
        }),
        chunk(0, 'The answer must not arrive.', 'stop'),
        USAGE_CHUNK,
      ],
      report,
    );
    assert.equal(JSON.stringify(out).includes('6789'), false);
    assert.equal(JSON.stringify(out).includes('must not arrive'), false);
    assert.equal(joined(out).get(0)?.finish, 'content_filter');
    assert.deepEqual(report.blocks, ['usSsn']);
    assert.deepEqual(out.at(-1), USAGE_CHUNK);
    // A stream that ends mid-reasoning (no finish): the held text goes out, masked.
    const cut = new Recorder();
    const rest = await streamed(
      guard,
      [
        reasoningChunk({
          reasoning_details: [{ type: 'reasoning.text', text: `m ${EMAIL}`, index: 0 }],
        }),
      ],
      cut,
    );
    assert.deepEqual(joinedDetails(rest), { 'reasoning.text:0': 'm [REDACTED:email]' });
    assert.equal(cut.count('email'), 1);
  });

  it('reports streamed matches in content and in reasoning apart, masked and blocking', async () => {
    const report = new Recorder();
    await streamed(
      guard,
      [
        reasoningChunk({ reasoning_content: `mail ${EMAIL} and ${KEY}` }),
        chunk(0, `Mailed ${EMAIL}.`),
        chunk(0, undefined, 'stop'),
      ],
      report,
    );
    assert.deepEqual(report.parts, ['content', 'reasoning']);
    assert.equal(report.count('email', 'content'), 1);
    assert.equal(report.count('email', 'reasoning'), 1);
    assert.equal(report.count('apiKey', 'reasoning'), 1);
    const cases: [JsonObject[], AnswerPart][] = [
      [[reasoningChunk({ reasoning: `SSN ${SSN}` }), chunk(0, 'x', 'stop')], 'reasoning'],
      [[reasoningChunk({ reasoning: 'fine' }), chunk(0, `SSN ${SSN}`, 'stop')], 'content'],
      [[chunk(0, `SSN ${SSN}`)], 'content'], // no finish: found when the stream ends
      [[reasoningChunk({ reasoning: `SSN ${SSN}` })], 'reasoning'],
      [
        [
          reasoningChunk({ reasoning_details: [{ type: 'reasoning.text', text: SSN, index: 0 }] }),
          chunk(0, 'x', 'stop'),
        ],
        'reasoning',
      ],
      [[reasoningChunk({ thinking_blocks: [{ type: 'thinking', thinking: SSN }] })], 'reasoning'],
    ];
    for (const [chunks, part] of cases) {
      const blocking = new Recorder();
      await streamed(guard, chunks, blocking);
      assert.deepEqual(blocking.blockParts, [part], JSON.stringify(chunks));
    }
  });

  it('two choices are held apart', async () => {
    const report = new Recorder();
    const out = await streamed(
      guard,
      [
        chunk(0, 'a jane.doe@exa'),
        chunk(1, `b ${SSN} c`),
        chunk(0, 'mple.com z'),
        chunk(1, undefined, 'stop'),
        chunk(0, undefined, 'stop'),
      ],
      report,
    );
    assert.deepEqual(joined(out).get(0), { text: 'a [REDACTED:email] z', finish: 'stop' });
    assert.deepEqual(joined(out).get(1), { text: 'b ', finish: 'content_filter' });
  });
});
