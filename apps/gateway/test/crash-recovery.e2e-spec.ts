// The all-in-one gateway's record across a crash and a graceful stop: what a client was
// answered is analysed and settled against its budget exactly once after a restart on the
// same data directory (with AI_GATEWAY_ANSWER_AFTER_RECORD=on, every answer a client got,
// the last ones before the kill included), and a SIGTERM lets the answers and streams in
// flight finish, records them, and exits 0 without waiting on the clients' kept-alive
// connections.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Topic } from '@aigw/contracts';
import { metricSum, until } from '@aigw/testing';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const USERS = ['crash-a', 'crash-b', 'crash-c', 'crash-d'];
const PROMPT = [{ role: 'user', content: 'hi' }];

/** `extra`: more of the route's spec (its cache, say). */
function configFor(baseUrl: string, extra = ''): string {
  return `kind: AIGatewayRoute
metadata: {name: crash}
spec:
  backends:
  - {name: upstream, provider: vllm, baseUrl: '${baseUrl}', model: gpt-4o-mini}
  userIdentification: {header: x-user-id}
  tokenBudget:
    perUser: {limit: 100000000, period: 30d}
${extra}`;
}

/** A config and data directory that outlive one gateway process. */
function gatewayHome(upstreamBaseUrl: string, extra = ''): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'aigw-crash-'));
  writeFileSync(join(dir, 'config.yaml'), configFor(upstreamBaseUrl, extra));
  return {
    AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
    AI_GATEWAY_DATA_DIR: join(dir, 'data'),
  };
}

interface Outcome {
  readonly id: string;
  readonly user: string;
  /** The whole answer arrived: a 200 and, for a stream, its `[DONE]`. */
  readonly answered: boolean;
  /** The connection failed before an answer (the gateway was gone). */
  readonly cut: boolean;
  readonly status: number;
}

async function chat(baseUrl: string, user: string, stream: boolean): Promise<Outcome> {
  const id = randomUUID();
  try {
    const response = await fetch(`${baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': user, 'x-request-id': id },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: PROMPT, max_tokens: 20, stream }),
    });
    const text = await response.text();
    const answered = response.status === 200 && (!stream || text.includes('data: [DONE]'));
    return { id, user, answered, cut: false, status: response.status };
  } catch {
    return { id, user, answered: false, cut: true, status: 0 };
  }
}

interface UsageRow {
  readonly request_id: string;
  readonly user_id: string;
  readonly input_tokens: number;
  readonly output_tokens: number;
}

function analysedUsage(dataDir: string): UsageRow[] {
  const db = new DatabaseSync(join(dataDir, 'analytics.db'), { readOnly: true });
  try {
    return db
      .prepare('SELECT request_id, user_id, input_tokens, output_tokens FROM usage_events')
      .all() as unknown as UsageRow[];
  } finally {
    db.close();
  }
}

/** Request ids of the usage events the durable log holds. */
function loggedUsageRequestIds(dataDir: string): string[] {
  const db = new DatabaseSync(join(dataDir, 'events.db'), { readOnly: true });
  try {
    const rows = db
      .prepare('SELECT value FROM events WHERE topic = ?')
      .all(Topic.UsageRecorded) as unknown as { value: string }[];
    return rows.map((row) => String((JSON.parse(row.value) as { requestId: unknown }).requestId));
  } finally {
    db.close();
  }
}

/** Tokens settled per user on the `tokenBudget.perUser` balance. */
function settledTokens(dataDir: string): Map<string, number> {
  const db = new DatabaseSync(join(dataDir, 'budget.db'), { readOnly: true });
  try {
    const rows = db.prepare('SELECT key, used FROM balances').all() as unknown as {
      key: string;
      used: number;
    }[];
    const spent = new Map<string, number>();
    for (const { key, used } of rows) {
      const user = /\{([^}]+)\}:tokenBudget\.perUser:/.exec(key)?.[1];
      if (user) spent.set(user, (spent.get(user) ?? 0) + used);
    }
    return spent;
  } finally {
    db.close();
  }
}

function tokensByUser(rows: readonly UsageRow[]): Map<string, number> {
  const sums = new Map<string, number>();
  for (const row of rows) {
    sums.set(row.user_id, (sums.get(row.user_id) ?? 0) + row.input_tokens + row.output_tokens);
  }
  return sums;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** Calls from `workers` loops, a third of them streamed, until `stopped()` says so. */
function driveLoad(baseUrl: () => string, workers: number, stopped: () => boolean) {
  const outcomes: Outcome[] = [];
  const loops = Array.from({ length: workers }, async (_, worker) => {
    for (let call = 0; !stopped(); call++) {
      const outcome = await chat(baseUrl(), USERS[(worker + call) % USERS.length], call % 3 === 0);
      outcomes.push(outcome);
      if (outcome.cut) return; // the gateway is gone: this loop's work is done
    }
  });
  return { outcomes, done: Promise.all(loops) };
}

describe('a kill -9 mid-load and a restart on the same data directory', () => {
  let upstream: FakeOpenAiUpstream;

  before(async () => {
    upstream = await new FakeOpenAiUpstream().start();
  });
  after(async () => {
    await upstream.stop();
  });

  /** What a kill -9 mid-load left, once a restart caught up (asserted on the way). */
  interface AfterTheKill {
    readonly answered: readonly Outcome[];
    /** Analysed usage rows per request id. */
    readonly perRequest: ReadonlyMap<string, number>;
    /** Answers of the first wave (before the kill) that waited for their record. */
    readonly waitsBeforeKill: number;
  }

  /**
   * Two waves of load, the second killed with SIGKILL, then a restart on the same data
   * directory: checks the record's invariants and returns what was answered and analysed.
   */
  async function killMidLoadAndRestart(
    env: Record<string, string>,
    routeExtra = '',
  ): Promise<AfterTheKill> {
    const home = { ...gatewayHome(upstream.baseUrl, routeExtra), ...env };
    const dataDir = home.AI_GATEWAY_DATA_DIR;
    let gateway: AppProcess = await startApp('gateway', home);
    try {
      // A first wave, then a pause until its usage is in the durable log: these answers
      // must survive the crash whatever the consumers had committed when it came.
      let pausing = false;
      const first = driveLoad(
        () => gateway.baseUrl,
        8,
        () => pausing,
      );
      await until('60 answers', () => first.outcomes.filter((o) => o.answered).length >= 60);
      pausing = true;
      await first.done;
      const settledBefore = first.outcomes.filter((o) => o.answered).map((o) => o.id);
      assert.equal(first.outcomes.filter((o) => !o.answered).length, 0);
      await until('the first answers are in the log', () => {
        const logged = new Set(loggedUsageRequestIds(dataDir));
        return settledBefore.every((id) => logged.has(id));
      });
      const scrape = await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`);
      const waitsBeforeKill = metricSum(
        await scrape.text(),
        'ai_gateway_answer_record_wait_seconds_count',
        { outcome: 'durable' },
      );

      // The second wave is killed mid-flight: the process gets no chance to flush.
      let killed = false;
      const second = driveLoad(
        () => gateway.baseUrl,
        16,
        () => killed,
      );
      await until(
        '150 more answers',
        () => second.outcomes.filter((o) => o.answered).length >= 150,
      );
      await gateway.stop('SIGKILL');
      killed = true;
      await second.done;

      gateway = await startApp('gateway', home);
      const outcomes = [...first.outcomes, ...second.outcomes];
      const sent = new Set(outcomes.map((o) => o.id));
      // The restarted consumers catch up on what the log kept and the last run had not
      // committed: wait until analytics and the budget both show every logged event.
      const logged = loggedUsageRequestIds(dataDir);
      await until('the restart caught up', () => {
        const rows = analysedUsage(dataDir);
        const settled = [...settledTokens(dataDir).values()].reduce((a, b) => a + b, 0);
        const analysed = [...tokensByUser(rows).values()].reduce((a, b) => a + b, 0);
        return rows.length >= logged.length && settled >= analysed;
      });

      const rows = analysedUsage(dataDir);
      const perRequest = countBy(rows, (row) => row.request_id);
      const twice = [...perRequest].filter(([, count]) => count > 1);
      assert.deepEqual(twice, [], 'a request analysed more than once');
      assert.deepEqual(
        [...perRequest.keys()].filter((id) => !sent.has(id)),
        [],
        'a usage row for a request never sent',
      );
      assert.equal(rows.length, new Set(logged).size, 'the log and the analytics disagree');
      for (const id of settledBefore) assert.equal(perRequest.get(id), 1, `${id} lost`);
      // A request whose connection was cut is billed only if its usage reached the log before
      // the kill (with AI_GATEWAY_ANSWER_AFTER_RECORD=on the record goes before the answer, so
      // a kill between the two leaves it recorded yet unanswered): once at most, as above.
      const cutRecorded = outcomes.filter((o) => o.cut && perRequest.has(o.id)).length;
      // The budget spent per user is the sum of what analytics holds for that user: none
      // settled twice across the restart, none settled and not analysed, or the reverse.
      assert.deepEqual(
        Object.fromEntries([...settledTokens(dataDir)].sort()),
        Object.fromEntries([...tokensByUser(rows)].sort()),
      );
      const answered = outcomes.filter((o) => o.answered);
      const lost = answered.filter((o) => !perRequest.has(o.id)).length;
      console.log(
        `kill -9${env.AI_GATEWAY_ANSWER_AFTER_RECORD ? ` (AI_GATEWAY_ANSWER_AFTER_RECORD=${env.AI_GATEWAY_ANSWER_AFTER_RECORD})` : ''}: ` +
          `${answered.length} answered, ${outcomes.filter((o) => o.cut).length} cut ` +
          `(${cutRecorded} of them recorded), ` +
          `${rows.length} recorded after the restart, ${lost} answered and not recorded`,
      );
      return { answered, perRequest, waitsBeforeKill };
    } finally {
      await gateway.stop('SIGKILL');
    }
  }

  it('analyses and settles every usage event the log kept exactly once, and every answer recorded before the load went on', async () => {
    // Off (the default): answers of the last flush interval (50 ms) before the kill may be
    // gone; the run says how many. Nothing waits for its record.
    const { waitsBeforeKill } = await killMidLoadAndRestart({});
    assert.equal(waitsBeforeKill, 0);
  });

  it('with AI_GATEWAY_ANSWER_AFTER_RECORD=on, analyses and settles every answer a client got, the last ones before the kill included', async () => {
    const { answered, perRequest, waitsBeforeKill } = await killMidLoadAndRestart({
      AI_GATEWAY_ANSWER_AFTER_RECORD: 'on',
    });
    // Each JSON answer and stream end of the first wave waited for its record.
    assert.ok(waitsBeforeKill >= 60, `${waitsBeforeKill} answers waited for their record`);
    const unrecorded = answered.filter((o) => perRequest.get(o.id) !== 1).map((o) => o.id);
    assert.deepEqual(unrecorded, [], 'an answered request not analysed (and charged) once');
  });

  it("with AI_GATEWAY_ANSWER_AFTER_RECORD=on and the route's cache on, analyses every cache hit a client got, streamed replays and the last ones before the kill included", async () => {
    // Every call asks the same: past the first answers (the workers' first calls miss
    // together), all are cache hits, replayed streams among them, with no provider call.
    const calls = upstream.calls.length;
    const { answered, perRequest, waitsBeforeKill } = await killMidLoadAndRestart(
      { AI_GATEWAY_ANSWER_AFTER_RECORD: 'on' },
      '  caching: {enabled: true, ttl: 1h, backend: memory}\n',
    );
    const misses = upstream.calls.length - calls;
    assert.ok(misses * 5 < answered.length, `${misses} of ${answered.length} answers missed`);
    // Each cache hit's JSON answer and replay's end waited for its record as well.
    assert.ok(waitsBeforeKill >= 60, `${waitsBeforeKill} answers waited for their record`);
    const unrecorded = answered.filter((o) => perRequest.get(o.id) !== 1).map((o) => o.id);
    assert.deepEqual(unrecorded, [], 'an answered request not analysed once');
  });
});

/**
 * An OpenAI-compatible backend whose answers wait for `release()`: a stream sends its first
 * chunk at once and the rest on release, an answer in JSON all of it on release.
 */
class HeldUpstream {
  received = 0;
  private released!: Promise<void>;
  release!: () => void;
  private readonly server: Server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    request.on('end', () => void this.answer(JSON.parse(raw) as { stream?: boolean }, response));
  });

  constructor() {
    this.hold();
  }

  hold(): void {
    this.released = new Promise((done) => (this.release = done));
  }

  async start(): Promise<this> {
    await new Promise<void>((done) => this.server.listen(0, '127.0.0.1', done));
    return this;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  stop(): void {
    this.server.closeAllConnections();
    this.server.close();
  }

  private async answer(
    body: { stream?: boolean },
    response: import('node:http').ServerResponse,
  ): Promise<void> {
    this.received++;
    const usage = { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 };
    const base = { id: 'chatcmpl-held', created: 1, model: 'gpt-4o-mini' };
    if (!body.stream) {
      await this.released;
      response.writeHead(200, { 'content-type': 'application/json' });
      const message = { role: 'assistant', content: 'held answer' };
      const choices = [{ index: 0, message, finish_reason: 'stop' }];
      response.end(JSON.stringify({ ...base, object: 'chat.completion', choices, usage }));
      return;
    }
    const chunk = (payload: object) =>
      `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', ...payload })}\n\n`;
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(
      chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: 'held' } }] }),
    );
    await this.released;
    response.write(chunk({ choices: [{ index: 0, delta: { content: ' answer' } }] }));
    response.write(chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }));
    response.write(chunk({ choices: [], usage }));
    response.end('data: [DONE]\n\n');
  }
}

describe('a SIGTERM with answers and streams in flight', () => {
  let upstream: HeldUpstream;

  before(async () => {
    upstream = await new HeldUpstream().start();
  });
  after(() => upstream.stop());

  it('refuses new connections, finishes what is in flight, records each answer once and exits 0', async () => {
    const home = gatewayHome(upstream.baseUrl);
    const gateway = await startApp('gateway', home);
    try {
      // Answered at once: the client keeps this connection alive, as every SDK does.
      upstream.release();
      const warm = await chat(gateway.baseUrl, USERS[0], false);
      assert.equal(warm.answered, true);

      upstream.hold();
      upstream.received = 0;
      const inFlight = [
        ...USERS.map((user) => chat(gateway.baseUrl, user, true)),
        ...USERS.map((user) => chat(gateway.baseUrl, user, true)),
        ...USERS.map((user) => chat(gateway.baseUrl, user, false)),
      ];
      await until('the upstream holds every call', () => upstream.received === inFlight.length);

      gateway.kill('SIGTERM');
      // Closing: a new connection is refused (the listener is gone), never left hanging.
      await until(
        'a new connection is refused',
        // Not a chat: one accepted just before the close would wait on the held upstream.
        () =>
          fetch(`${gateway.baseUrl}/v1/models`).then(
            () => false,
            () => true,
          ),
      );
      const stillRunning = Promise.resolve('running');
      assert.equal(
        await Promise.race([gateway.exited.then(() => 'exited'), stillRunning]),
        'running',
      );

      upstream.release();
      const outcomes = await Promise.all(inFlight);
      assert.deepEqual(
        outcomes.filter((o) => !o.answered),
        [],
        'an answer in flight at the SIGTERM was cut',
      );
      // Exits once they are done: not held for the clients' keep-alive timeout (72 s).
      const stoppedBy = Date.now() + 20_000;
      const exit = await Promise.race([
        gateway.exited,
        new Promise<'still running'>((done) =>
          setTimeout(() => done('still running'), stoppedBy - Date.now()).unref(),
        ),
      ]);
      assert.deepEqual(exit, { code: 0, signal: null }, gateway.output().slice(-2000));
      // Both ends of the stop are in the log, the end after the answers.
      const said = (text: string) => gateway.output().indexOf(text);
      assert.ok(said('"msg":"stopping: new connections refused') >= 0, gateway.output());
      assert.ok(said('"msg":"stopped: answers done and events written"') > said('stopping'));

      // The log was flushed and consumed before the exit: nothing waits for a restart.
      const dataDir = home.AI_GATEWAY_DATA_DIR;
      const rows = analysedUsage(dataDir);
      const perRequest = countBy(rows, (row) => row.request_id);
      for (const outcome of [warm, ...outcomes]) {
        assert.equal(perRequest.get(outcome.id), 1, `${outcome.id} recorded once`);
      }
      assert.equal(rows.length, outcomes.length + 1);
      assert.deepEqual(
        Object.fromEntries([...settledTokens(dataDir)].sort()),
        Object.fromEntries([...tokensByUser(rows)].sort()),
      );
    } finally {
      gateway.kill('SIGKILL');
    }
  });

  it('answers a call that comes during the stop on a connection already open, then closes it', async () => {
    const home = gatewayHome(upstream.baseUrl);
    const gateway = await startApp('gateway', home);
    const socket = connect(Number(new URL(gateway.baseUrl).port), '127.0.0.1');
    try {
      upstream.hold();
      upstream.received = 0;
      const heard = readAll(socket);
      const [first, second] = [randomUUID(), randomUUID()];
      socket.write(rawChat(first));
      await until('the upstream holds the first call', () => upstream.received === 1);

      gateway.kill('SIGTERM');
      await until('a new connection is refused', () =>
        fetch(`${gateway.baseUrl}/v1/models`).then(
          () => false,
          () => true,
        ),
      );
      // The connection is busy with the first call, so the stop keeps it: a second call on
      // it (a client reusing its connection) is served, not refused in a foreign format.
      socket.write(rawChat(second));
      upstream.release();

      const answers = splitResponses(await heard);
      assert.deepEqual(
        answers.map((answer) => answer.status),
        [200, 200],
        answers.map((answer) => answer.head).join('\n'),
      );
      assert.match(answers[1].head, /^connection: close$/im);
      assert.equal(JSON.parse(answers[1].body).object, 'chat.completion');
      assert.deepEqual(await gateway.exited, { code: 0, signal: null });
      const perRequest = countBy(analysedUsage(home.AI_GATEWAY_DATA_DIR), (r) => r.request_id);
      assert.deepEqual([perRequest.get(first), perRequest.get(second)], [1, 1]);
    } finally {
      socket.destroy();
      gateway.kill('SIGKILL');
    }
  });
});

/** A chat call as HTTP/1.1 bytes, kept alive, for a socket of the test's own. */
function rawChat(requestId: string): string {
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: PROMPT, max_tokens: 20 });
  return (
    'POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n' +
    `content-type: application/json\r\nx-user-id: ${USERS[2]}\r\nx-request-id: ${requestId}\r\n` +
    `connection: keep-alive\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** Everything the socket receives until the other end closes it. */
function readAll(socket: Socket): Promise<string> {
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  return new Promise((done) => socket.once('close', () => done(received)));
}

/** The responses in `text`, each framed by its content-length (no chunked answers here). */
function splitResponses(text: string): { status: number; head: string; body: string }[] {
  const responses: { status: number; head: string; body: string }[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.1 ')) {
    const headEnd = rest.indexOf('\r\n\r\n');
    const head = rest.slice(0, headEnd);
    const length = Number(/^content-length: (\d+)$/im.exec(head)?.[1] ?? 0);
    const body = Buffer.from(rest.slice(headEnd + 4))
      .subarray(0, length)
      .toString();
    responses.push({ status: Number(head.slice(9, 12)), head, body });
    rest = rest.slice(headEnd + 4 + body.length);
  }
  return responses;
}
