// Stored responses through the all-in-one gateway on embedded defaults (process memory),
// with the official openai client: a response is stored, chained with
// previous_response_id (the backend, an OpenAI-compatible fake that keeps no state, gets
// the earlier turns), retrieved, listed and deleted; each caller (x-user-id) sees its own.
// A store that keeps nothing makes the answer say store: false (JSON and the stream's
// response.completed), so no client counts on chaining from it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { metricSum } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';
import { clientAs, notFound, otherIdentityRoute, previousNotFound } from './stored-state-gateway';

const ANSWER = 'Hello from the fake upstream.';

/** `store`, which the gateway's Response carries and this SDK's type leaves out. */
const stored = (response: OpenAI.Responses.Response) =>
  (response as unknown as { store?: boolean }).store;

describe('Responses API state on the all-in-one gateway', () => {
  const upstream = new FakeOpenAiUpstream('plain');
  let gateway: AppProcess;
  let alice: OpenAI;
  let bob: OpenAI;

  before(async () => {
    await upstream.start();
    const dir = mkdtempSync(join(tmpdir(), 'aigw-responses-state-e2e-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `apiVersion: gateway.envoyproxy.io/v1alpha1
kind: AIGatewayRoute
metadata: {name: responses-state}
spec:
  backends:
  - name: plain
    provider: vllm
    baseUrl: ${upstream.baseUrl}
    model: upstream-plain-model
    modelNameOverride: gpt-plain
  userIdentification: {header: x-user-id}
${otherIdentityRoute(upstream.baseUrl)}`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
    alice = clientAs(gateway.baseUrl, 'alice');
    bob = clientAs(gateway.baseUrl, 'bob');
  });
  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  it('chains turns with previous_response_id: the backend gets the earlier turns, not their instructions', async () => {
    upstream.reset();
    const first = await alice.responses.create({
      model: 'gpt-plain',
      instructions: 'Be brief.',
      input: 'My name is Ann.',
    });
    assert.equal(stored(first), true);
    assert.equal(first.previous_response_id, null);
    const second = await alice.responses.create({
      model: 'gpt-plain',
      input: [{ role: 'user', content: 'What is my name?' }],
      previous_response_id: first.id,
    });
    assert.equal(second.previous_response_id, first.id);
    assert.equal(stored(second), true);
    assert.deepEqual(upstream.calls[1]?.body.messages, [
      { role: 'user', content: 'My name is Ann.' },
      { role: 'assistant', content: ANSWER },
      { role: 'user', content: 'What is my name?' },
    ]);
    assert.equal(upstream.calls[1]?.body.previous_response_id, undefined);

    // A stream is stored once it finished, and chains the same way.
    const stream = await alice.responses.create({
      model: 'gpt-plain',
      input: 'And now?',
      previous_response_id: second.id,
      stream: true,
    });
    let streamedId = '';
    for await (const event of stream) {
      if (event.type === 'response.completed') streamedId = event.response.id;
    }
    await alice.responses.create({
      model: 'gpt-plain',
      input: 'Last one.',
      previous_response_id: streamedId,
    });
    const messages = upstream.calls[3]?.body.messages as { content: string }[];
    assert.deepEqual(
      messages.map((message) => message.content),
      ['My name is Ann.', ANSWER, 'What is my name?', ANSWER, 'And now?', ANSWER, 'Last one.'],
    );
  });

  it('retrieves a stored response and lists its input items', async () => {
    const created = await alice.responses.create({
      model: 'gpt-plain',
      input: [
        { role: 'user', content: 'First part.' },
        { role: 'user', content: [{ type: 'input_text', text: 'Second part.' }] },
      ],
    });
    const retrieved = await alice.responses.retrieve(created.id);
    assert.equal(retrieved.id, created.id);
    assert.equal(retrieved.output_text, ANSWER);
    assert.deepEqual(retrieved.usage, created.usage);
    assert.equal(retrieved.created_at, created.created_at);
    // A resumable stream is for background responses; a JSON answer would read as no events.
    await assert.rejects(
      alice.responses.retrieve(created.id, { stream: true }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'stream',
    );

    const page = await alice.responses.inputItems.list(created.id, { order: 'asc' });
    const texts = page.data.map((item) => {
      assert.equal(item.type, 'message');
      return (item as { content: { text: string }[] }).content[0]?.text;
    });
    assert.deepEqual(texts, ['First part.', 'Second part.']);
    const newestFirst = await alice.responses.inputItems.list(created.id, { limit: 1 });
    assert.equal(newestFirst.data.length, 1);
    assert.equal(newestFirst.has_more, true);
    assert.equal(
      (newestFirst.data[0] as { content: { text: string }[] }).content[0]?.text,
      'Second part.',
    );
  });

  it("lists a chained response's whole context as its input items, as OpenAI does", async () => {
    const first = await alice.responses.create({ model: 'gpt-plain', input: 'Turn one.' });
    const second = await alice.responses.create({
      model: 'gpt-plain',
      input: 'Turn two.',
      previous_response_id: first.id,
    });
    const page = await alice.responses.inputItems.list(second.id, { order: 'asc' });
    const shown = page.data.map((item) => {
      const { role, content } = item as { role: string; content: { text: string }[] };
      return `${role}: ${content[0]?.text}`;
    });
    assert.deepEqual(shown, ['user: Turn one.', `assistant: ${ANSWER}`, 'user: Turn two.']);
    assert.equal(page.data[1]?.id, first.output[0]?.id);
  });

  it('gives another caller a 404 for a response, whether it reads, chains or deletes', async () => {
    upstream.reset();
    const mine = await alice.responses.create({ model: 'gpt-plain', input: 'Secret plan.' });
    await assert.rejects(bob.responses.retrieve(mine.id), notFound());
    await assert.rejects(bob.responses.inputItems.list(mine.id), notFound());
    await assert.rejects(bob.responses.delete(mine.id), notFound());
    await assert.rejects(
      bob.responses.create({
        model: 'gpt-plain',
        input: 'Tell me.',
        previous_response_id: mine.id,
      }),
      (error: unknown) => previousNotFound(error) && !/Secret/.test(String(error)),
    );
    assert.equal(upstream.calls.length, 1, "bob's chained request never reached the backend");
    // Still alice's.
    assert.equal((await alice.responses.retrieve(mine.id)).id, mine.id);
  });

  it("identifies a chaining caller as the stored response's route does, not the new request's", async () => {
    upstream.reset();
    const mine = await alice.responses.create({ model: 'gpt-plain', input: 'Secret plan.' });
    // gpt-other's route takes x-other-user: naming alice there is not being alice on
    // gpt-plain's route, which made the response.
    const posing = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
      defaultHeaders: { 'x-other-user': 'alice', 'x-user-id': 'mallory' },
    });
    await assert.rejects(
      posing.responses.create({
        model: 'gpt-other',
        input: 'Tell me.',
        previous_response_id: mine.id,
      }),
      (error: unknown) => previousNotFound(error) && !/Secret/.test(String(error)),
    );
    assert.equal(upstream.calls.length, 1, 'the chained request never reached the backend');
    // Alice, as both routes identify her, continues it on the other model.
    const both = new OpenAI({
      baseURL: `${gateway.baseUrl}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
      defaultHeaders: { 'x-other-user': 'alice', 'x-user-id': 'alice' },
    });
    const next = await both.responses.create({
      model: 'gpt-other',
      input: 'Go on.',
      previous_response_id: mine.id,
    });
    assert.equal(next.previous_response_id, mine.id);
    assert.match(JSON.stringify(upstream.calls[1]?.body.messages), /Secret plan\./);
  });

  it('deletes a response, which is then not found to read and to chain from', async () => {
    const created = await alice.responses.create({ model: 'gpt-plain', input: 'Forget me.' });
    const deleted = await fetch(`${gateway.baseUrl}/v1/responses/${created.id}`, {
      method: 'DELETE',
      headers: { 'x-user-id': 'alice' },
    });
    assert.equal(deleted.status, 200);
    assert.deepEqual(await deleted.json(), { id: created.id, object: 'response', deleted: true });
    await assert.rejects(alice.responses.retrieve(created.id), notFound());
    await assert.rejects(alice.responses.delete(created.id), notFound());
    await assert.rejects(
      alice.responses.create({ model: 'gpt-plain', input: 'x', previous_response_id: created.id }),
      previousNotFound,
    );
  });

  it('stores nothing for store: false, so there is nothing to chain from', async () => {
    const unstored = await alice.responses.create({
      model: 'gpt-plain',
      input: 'Do not keep this.',
      store: false,
    });
    assert.equal(stored(unstored), false);
    await assert.rejects(alice.responses.retrieve(unstored.id), notFound());
    await assert.rejects(
      alice.responses.create({ model: 'gpt-plain', input: 'x', previous_response_id: unstored.id }),
      previousNotFound,
    );
  });

  it('stores nothing of a stream that broke', async () => {
    upstream.next({ kind: 'break-stream', afterChunks: 2 });
    const stream = await alice.responses.create({ model: 'gpt-plain', input: 'hi', stream: true });
    let id = '';
    await assert.rejects(async () => {
      for await (const event of stream)
        if (event.type === 'response.created') id = event.response.id;
    }, OpenAI.APIError);
    assert.match(id, /^resp_/);
    await assert.rejects(alice.responses.retrieve(id), notFound());
  });

  it('counts stores, hits and misses in ai_gateway_stored_responses_total', async () => {
    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    const count = (event: string) =>
      metricSum(text, 'ai_gateway_stored_responses_total', { event });
    // What the tests above did, in order: 11 responses stored (store: false is not), 11
    // lookups of the owner's own, 11 of another's, deleted, unstored or broken ones, 1 deletion.
    assert.equal(count('stored'), 11);
    assert.equal(count('hit'), 11);
    assert.equal(count('miss'), 11);
    assert.equal(count('deleted'), 1);
  });

  it("pages a chain's input_items to the end under one x-request-id for the whole session", async () => {
    const session = { headers: { 'x-request-id': 'session-42' } };
    let previous: string | undefined;
    for (const input of ['One.', 'Two.', 'Three.']) {
      const turn = await alice.responses.create(
        { model: 'gpt-plain', input, ...(previous && { previous_response_id: previous }) },
        session,
      );
      previous = turn.id;
    }
    // The SDK's auto-pagination asks for the page after the last id until has_more is false.
    const listed: string[] = [];
    for await (const item of alice.responses.inputItems.list(previous!, { limit: 1 })) {
      listed.push(item.id);
      if (listed.length > 10) break;
    }
    assert.equal(listed.length, 5, listed.join());
    assert.equal(new Set(listed).size, 5, listed.join());
    // Sending the history again with previous_response_id is OpenAI's 400, not read twice.
    const items = await alice.responses.inputItems.list(previous!, { order: 'asc' });
    await assert.rejects(
      alice.responses.create({
        model: 'gpt-plain',
        previous_response_id: previous,
        input: [...(items.data as OpenAI.Responses.ResponseInputItem[]), 'Four.'].map((item) =>
          typeof item === 'string' ? { role: 'user' as const, content: item } : item,
        ),
      }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        error.param === 'input' &&
        /Duplicate item found with id /.test(error.message),
    );
  });
  it('chains, lists and deletes across checkpoints of a long chain (stored in linear space)', async () => {
    // 70 turns: past two checkpoints (every 32nd turn), where the chain is walked back.
    const turns = 70;
    const ids: string[] = [];
    for (let turn = 0; turn < turns; turn++) {
      const previous = ids.at(-1);
      const response = await alice.responses.create({
        model: 'gpt-plain',
        input: `Turn ${turn}.`,
        ...(previous && { previous_response_id: previous }),
      });
      ids.push(response.id);
    }
    const sent = upstream.calls.at(-1)?.body.messages as { role: string; content: string }[];
    assert.equal(sent.length, 2 * turns - 1);
    assert.deepEqual(sent[0], { role: 'user', content: 'Turn 0.' });
    assert.deepEqual(sent.at(-1), { role: 'user', content: `Turn ${turns - 1}.` });
    const said = async () => {
      const listed: string[] = [];
      for await (const item of alice.responses.inputItems.list(ids.at(-1)!, { order: 'asc' })) {
        const { role, content } = item as { role: string; content: { text: string }[] };
        if (role === 'user') listed.push(content[0].text);
      }
      return listed;
    };
    const every = Array.from({ length: turns }, (_, turn) => `Turn ${turn}.`);
    assert.deepEqual(await said(), every);
    // The 32nd turn is a checkpoint: deleted, it is left out and every other turn still listed.
    await alice.responses.delete(ids[32]);
    await assert.rejects(alice.responses.retrieve(ids[32]), notFound());
    assert.deepEqual(
      await said(),
      every.filter((text) => text !== 'Turn 32.'),
    );
    await assert.rejects(
      alice.responses.create({
        model: 'gpt-plain',
        input: 'More.',
        previous_response_id: ids.at(-1),
      }),
      previousNotFound,
    );
  });
});

describe('Responses API on a gateway whose store keeps nothing', () => {
  const upstream = new FakeOpenAiUpstream('plain');
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await upstream.start();
    const dir = mkdtempSync(join(tmpdir(), 'aigw-responses-unstored-e2e-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `kind: AIGatewayRoute
metadata: {name: responses-unstored}
spec:
  backends:
  - {name: plain, provider: vllm, baseUrl: "${upstream.baseUrl}", model: upstream-plain-model, modelNameOverride: gpt-plain}
`,
    );
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: config,
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
      // Smaller than any response: every write is refused, as a store that is down fails it.
      AI_GATEWAY_RESPONSES_MEMORY_MAX_BYTES: '64',
    });
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await gateway?.stop();
    await upstream.stop();
  });

  it('answers store: false, JSON and streamed, and chaining from it is the previous_response_not_found it says', async () => {
    const created = await client.responses.create({ model: 'gpt-plain', input: 'Keep this?' });
    assert.equal(created.output_text, ANSWER);
    assert.equal(stored(created), false);
    await assert.rejects(
      client.responses.create({ model: 'gpt-plain', input: 'x', previous_response_id: created.id }),
      previousNotFound,
    );

    const stream = await client.responses.create({
      model: 'gpt-plain',
      input: 'And this?',
      stream: true,
    });
    const states: (boolean | undefined)[] = [];
    for await (const event of stream) {
      if (event.type === 'response.created' || event.type === 'response.completed') {
        states.push(stored(event.response));
      }
    }
    // Asked for when the stream opened; not kept once it finished.
    assert.deepEqual(states, [true, false]);

    const text = await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text();
    assert.equal(metricSum(text, 'ai_gateway_stored_responses_total', { event: 'too_large' }), 2);
    assert.equal(metricSum(text, 'ai_gateway_stored_responses_total', { event: 'stored' }), 0);
  });
});
