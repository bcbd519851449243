import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPlaneError } from '@aigw/contracts/data-plane';
import { Readable } from 'node:stream';
import {
  restoreBatchModels,
  rewriteBatchInput,
  rewriteBatchInputBytes,
  sumBatchUsage,
  sumBatchUsageStream,
} from './batch-jsonl';

const line = (id: string, model: unknown) =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content: 'hi' }] },
  });

describe('batch input files', () => {
  it('rewrites every body.model to the backend model, keeping the rest and blank lines', () => {
    const text = `${line('a', 'gpt-virtual')}\r\n\n${line('b', 'gpt-virtual')}\n`;
    const out = rewriteBatchInput(text, 'gpt-virtual', 'upstream-model');
    const lines = out.split('\n');
    assert.equal(lines.length, 4);
    assert.equal(lines[1], '');
    const first = JSON.parse(lines[0]);
    assert.equal(first.body.model, 'upstream-model');
    assert.equal(first.custom_id, 'a');
    assert.deepEqual(first.body.messages, [{ role: 'user', content: 'hi' }]);
    assert.equal(JSON.parse(lines[2]).body.model, 'upstream-model');
  });

  it('refuses a line naming another model, or none, or not JSON, with its number', () => {
    const refuse = (text: string, pattern: RegExp) =>
      assert.throws(
        () => rewriteBatchInput(text, 'gpt-virtual', 'up'),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.httpStatus === 400 &&
          pattern.test(error.message),
      );
    refuse(
      `${line('a', 'gpt-virtual')}\n${line('b', 'gpt-other')}`,
      /Line 2 .*'gpt-other'.*'gpt-virtual'/,
    );
    refuse(line('a', undefined), /Line 1 .*no model/);
    refuse(`${line('a', 'gpt-virtual')}\n{oops`, /Line 2 .*not JSON/);
    refuse('[1]', /Line 1 .*'body'/);
  });

  it("refuses a chat line naming the backend's data sources (Azure On Your Data), with its number", () => {
    const withSources = (field: string, url = '/v1/chat/completions') =>
      JSON.stringify({
        custom_id: 'a',
        method: 'POST',
        url,
        body: {
          model: 'gpt-virtual',
          messages: [{ role: 'user', content: 'hi' }],
          [field]: [{ type: 'azure_search', parameters: { index_name: 'salaries' } }],
        },
      });
    for (const [field, url] of [
      ['data_sources', '/v1/chat/completions'],
      ['dataSources', '/v1/chat/completions'],
      ['data_sources', '/chat/completions'],
    ]) {
      assert.throws(
        () =>
          rewriteBatchInput(
            `${line('a', 'gpt-virtual')}\n${withSources(field, url)}`,
            'gpt-virtual',
            'up',
          ),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.httpStatus === 400 &&
          error.param === 'file' &&
          new RegExp(`^Line 2 .* sets body\\.${field}: .*data sources`).test(error.message),
      );
    }
  });

  it('refuses a line nested past the body depth limit with its number, not a stack overflow', () => {
    // As text: a value this deep cannot be written out with JSON.stringify.
    const nested = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
    const request = (id: string, body: string, beside = '') =>
      `{"custom_id":"${id}","method":"POST","url":"/v1/chat/completions",${beside}"body":${body}}`;
    const body = (field: string, value: string) =>
      `{"model":"gpt-virtual","messages":[{"role":"user","content":"hi"}],"${field}":${value}}`;
    const refused = (text: string, number: number) =>
      assert.throws(
        () => rewriteBatchInput(text, 'gpt-virtual', 'up'),
        (error: unknown) =>
          error instanceof DataPlaneError &&
          error.httpStatus === 400 &&
          error.param === 'file' &&
          new RegExp(`^Line ${number} .*deeper than 64 levels`).test(error.message),
      );
    refused(`${line('a', 'gpt-virtual')}\n${request('b', body('metadata', nested(200_000)))}`, 2);
    // One level past a single call's limit, or deep beside the body: the line is written again whole.
    refused(request('b', body('extra', nested(64))), 1);
    refused(request('b', body('extra', '1'), `"note":${nested(200_000)},`), 1);
    // At the limit, as a single call's body may be.
    assert.equal(
      JSON.parse(rewriteBatchInput(request('b', body('extra', nested(63))), 'gpt-virtual', 'up'))
        .body.model,
      'up',
    );
  });

  it('reads a file that starts with a byte order mark, and uploads it without one', () => {
    // Windows tools (PowerShell 5's Out-File, Notepad's "UTF-8 with BOM") write one.
    const out = rewriteBatchInput(`\uFEFF${line('a', 'gpt-virtual')}\n`, 'gpt-virtual', 'up');
    assert.equal(out.charCodeAt(0), '{'.charCodeAt(0));
    assert.equal(JSON.parse(out.split('\n')[0]).body.model, 'up');
  });

  it('rewrites an upload from its bytes to the bytes the text reading gives, refusing alike', () => {
    const ok = (id: string, content = 'hi') =>
      JSON.stringify({ custom_id: id, body: { model: 'gpt-virtual', messages: [{ content }] } });
    const texts = [
      `${ok('a')}\n${ok('b')}\n`,
      `\uFEFF${ok('a')}\r\n \r\n\n${ok('b', 'ü 日本 🙂')}`,
      `${ok('a')}\r`,
      ` \r`,
      `\n\n${ok('a')}\r\n\t\n`,
      '',
    ];
    const screen = (_url: unknown, body: Record<string, unknown>) => ({ ...body, screened: true });
    for (const text of texts) {
      const parts = rewriteBatchInputBytes(Buffer.from(text), 'gpt-virtual', 'up', screen);
      assert.equal(
        Buffer.concat(parts).toString('utf8'),
        rewriteBatchInput(text, 'gpt-virtual', 'up', screen),
        JSON.stringify(text),
      );
    }
    for (const text of [`${ok('a')}\n\n{oops`, `${ok('a')}\r\n${line('b', 'gpt-other')}`]) {
      const message = (run: () => unknown) => {
        try {
          run();
        } catch (error) {
          return (error as Error).message;
        }
        assert.fail('not refused');
      };
      assert.equal(
        message(() => rewriteBatchInputBytes(Buffer.from(text), 'gpt-virtual', 'up')),
        message(() => rewriteBatchInput(text, 'gpt-virtual', 'up')),
      );
    }
  });

  it('gives back the client model names in input and output lines', () => {
    const input = JSON.stringify({ custom_id: 'a', body: { model: 'up', x: 1 } });
    const output = JSON.stringify({
      custom_id: 'a',
      response: { status_code: 200, body: { model: 'up-2025', usage: {} } },
    });
    const restored = restoreBatchModels(`${input}\n${output}\nnot json`, 'gpt-virtual').split('\n');
    assert.equal(JSON.parse(restored[0]).body.model, 'gpt-virtual');
    assert.equal(JSON.parse(restored[0]).body.x, 1);
    assert.equal(JSON.parse(restored[1]).response.body.model, 'gpt-virtual');
    assert.equal(restored[2], 'not json');
  });
});

describe('batch output usage', () => {
  it('sums chat, embeddings and Responses usage; failed lines add nothing', () => {
    const answered = (usage: unknown) =>
      JSON.stringify({
        custom_id: 'x',
        response: { status_code: 200, body: { usage } },
        error: null,
      });
    const text = [
      answered({
        prompt_tokens: 100,
        completion_tokens: 20,
        prompt_tokens_details: { cached_tokens: 40 },
      }),
      answered({ prompt_tokens: 7, total_tokens: 7 }),
      answered({ input_tokens: 50, output_tokens: 5, input_tokens_details: { cached_tokens: 10 } }),
      JSON.stringify({ custom_id: 'y', response: null, error: { code: 'x', message: 'failed' } }),
      'garbage',
      answered({ prompt_tokens: -3, completion_tokens: 'many' }),
    ].join('\n');
    assert.deepEqual(sumBatchUsage(text), {
      inputTokens: 157,
      outputTokens: 25,
      cachedInputTokens: 50,
      requests: 4,
      perRequest: [
        { inputTokens: 100, outputTokens: 20, cachedInputTokens: 40 },
        { inputTokens: 7, outputTokens: 0, cachedInputTokens: 0 },
        { inputTokens: 50, outputTokens: 5, cachedInputTokens: 10 },
        { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 },
      ],
    });
  });

  it('sums the same from a stream, whatever byte the file is cut at', async () => {
    const answered = (usage: unknown, text: string) =>
      JSON.stringify({
        custom_id: text,
        response: { status_code: 200, body: { usage, choices: [{ message: { content: text } }] } },
      });
    const file = Buffer.from(
      [
        answered({ prompt_tokens: 100, completion_tokens: 20 }, 'héllo 🙂'),
        answered({ input_tokens: 50, output_tokens: 5 }, '日本語'),
        '',
        'garbage',
        answered(
          { prompt_tokens: 7, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 2 } },
          'crlf',
        ),
      ].join('\r\n') +
        '\n' +
        answered({ prompt_tokens: 1, completion_tokens: 1 }, 'no newline'),
    );
    const whole = sumBatchUsage(file.toString('utf8'));
    assert.equal(whole.requests, 4);
    const stream = (chunks: Buffer[]) => Readable.from(chunks, { objectMode: false });
    for (let cut = 0; cut <= file.length; cut++) {
      const usage = await sumBatchUsageStream(stream([file.subarray(0, cut), file.subarray(cut)]));
      assert.deepEqual(usage, whole, `cut at byte ${cut}`);
    }
    const bytes = [...file].map((byte) => Buffer.from([byte]));
    assert.deepEqual(await sumBatchUsageStream(stream(bytes)), whole);
  });
});

describe('billing an output file with a line longer than the gateway reads whole', () => {
  /** An embeddings answer line (its usage after its vectors), as the Batch API writes one. */
  const embeddingsLine = (vectors: number, usage: object) =>
    JSON.stringify({
      id: 'batch_req_1',
      custom_id: 'big',
      response: {
        status_code: 200,
        body: {
          object: 'list',
          data: Array.from({ length: vectors }, (_, index) => ({
            object: 'embedding',
            index,
            embedding: [0.0123456789, -0.0234567891, 0.0345678912],
          })),
          model: 'up',
          usage,
        },
      },
      error: null,
    });
  const chatLine = (usage: object) =>
    JSON.stringify({ response: { status_code: 200, body: { model: 'up', usage } } });

  it('still bills it, from the usage at its end, and every line around it', async () => {
    const long = embeddingsLine(2_000, { prompt_tokens: 4_000, total_tokens: 4_000 });
    const max = 4_096;
    assert.ok(long.length > 20 * max);
    const file = Buffer.from(
      [
        chatLine({ prompt_tokens: 10, completion_tokens: 5 }),
        long,
        chatLine({
          prompt_tokens: 3,
          completion_tokens: 2,
          prompt_tokens_details: { cached_tokens: 1 },
        }),
        long,
      ].join('\n'),
    );
    const chunks = (size: number) =>
      Readable.from(
        Array.from({ length: Math.ceil(file.length / size) }, (_, at) =>
          file.subarray(at * size, (at + 1) * size),
        ),
        { objectMode: false },
      );
    for (const size of [1_000, 4_096, 65_536]) {
      const usage = await sumBatchUsageStream(chunks(size), max);
      assert.equal(usage.inputTokens, 8_013, `chunks of ${size}`);
      assert.equal(usage.outputTokens, 7);
      assert.equal(usage.cachedInputTokens, 1);
      assert.equal(usage.requests, 4);
    }
  });

  it('reads no usage from an answer’s text, where a quote is escaped', async () => {
    const quoted = JSON.stringify({
      response: {
        // Its usage first, then text that names another, after it in the line's last bytes.
        body: {
          usage: { prompt_tokens: 900, completion_tokens: 90 },
          choices: [{ message: { content: `${'x'.repeat(10_000)}"usage":{"prompt_tokens":1}` } }],
        },
      },
    });
    const usage = await sumBatchUsageStream(
      Readable.from([Buffer.from(quoted)], { objectMode: false }),
      1_024,
    );
    assert.deepEqual([usage.inputTokens, usage.outputTokens], [900, 90]);
  });
});
