// A stop signal that comes twice. systemd's default (control-group) stop of a unit running
// `npm start` sends SIGTERM to every process of the unit, and npm forwards its own to its
// child, so the gateway gets it twice, a moment apart; Ctrl-C on `npm start` does the same
// with SIGINT (the terminal signals the process group). That repeat is the same stop, and
// the drain goes on: a repeat used to kill the process, its streams cut mid-answer with no
// error event and the events not yet written lost. A repeat past the first second is an operator
// insisting: the calls still running are ended at once, as at the drain deadline (their
// error events written, the events recorded), and the process still exits 0 by itself.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { timelyRun, until } from '@aigw/testing';
import { HangingUpstream, streamReadThroughStop } from '@aigw/testing/fake-provider';
import { startGatewayWithConfig, type AppProcess } from '@aigw/testing/processes';
import { hasErrorEvent, looksFinished } from './fuzz/answer-checks';

describe('a stop signal delivered twice', () => {
  const upstream = new HangingUpstream();
  let gateway: AppProcess | undefined;

  /** A gateway on the hanging upstream that drains for `drainMs` at a stop. */
  const launch = (drainMs: number) =>
    startGatewayWithConfig(
      `kind: AIGatewayRoute
metadata: {name: held}
spec:
  backends:
  - {name: only, provider: vllm, baseUrl: "${upstream.baseUrl}", model: m, modelNameOverride: held, streamIdleTimeout: 900s}
`,
      { AI_GATEWAY_DRAIN_TIMEOUT_MS: String(drainMs), AI_GATEWAY_MISSING_SECRETS: 'warn' },
    );
  const start = async (drainMs: number) => {
    gateway = await launch(drainMs);
    return gateway;
  };
  // The second test's gateway, started beside the first test's: the starts take most of
  // the time. Its deadline the test would time out waiting for: only the repeat can end it.
  let insisting: Promise<AppProcess>;

  before(async () => {
    await upstream.start();
    insisting = launch(600_000);
    insisting.catch(() => undefined); // reported by the test that awaits it
  });
  afterEach(async () => {
    await gateway?.stop('SIGKILL');
    gateway = undefined;
  });
  after(async () => {
    await (await insisting.catch(() => undefined))?.stop('SIGKILL');
    await upstream.stop();
  });

  const askStream = (running: AppProcess) =>
    fetch(`${running.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'held',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });

  it('takes a SIGTERM repeated a moment later (npm start under systemd) as one stop: the stream drains to its deadline and the process exits 0', async () => {
    const { running, text, ended } = await timelyRun(
      'the copy to come within the window',
      async () => {
        const running = await start(1_500);
        const response = await askStream(running);
        assert.equal(response.status, 200);
        const text = await streamReadThroughStop(response, () => {
          running.kill('SIGTERM');
          // The forwarded copy: after the gateway took the first (two at once are one to Node).
          void until('the stop to begin', () => running.output().includes('"msg":"stopping: '), {
            everyMs: 10,
          }).then(() => running.kill('SIGTERM'));
        });
        const ended = await running.exited;
        gateway = undefined;
        // A pause of the loaded machine let the copy come past the window, as an operator's
        // repeat would: that run says nothing about a copy, and is made again.
        const late = running.output().includes('"msg":"a second stop signal');
        return late ? undefined : { running, text, ended };
      },
    );
    assert.deepEqual(ended, { code: 0, signal: null }, running.output().slice(-2000));
    // Ended by the drain deadline, with its error event, not by the process dying.
    assert.ok(hasErrorEvent('openai', '/v1/chat/completions', text), text);
    assert.ok(!looksFinished('openai', '/v1/chat/completions', text), text);
    assert.match(running.output(), /"msg":"drain deadline passed/);
    assert.match(running.output(), /"msg":"stopped: answers done and events written"/);
    assert.equal(running.output().match(/"msg":"stopping: /g)?.length, 1, running.output());
  });

  it('ends the calls still running at once on a repeat past the first second, then exits 0', async () => {
    gateway = await insisting;
    const running = gateway;
    const response = await askStream(running);
    assert.equal(response.status, 200);
    const text = await streamReadThroughStop(response, () => {
      running.kill('SIGINT');
      void until('the stop to begin', () => running.output().includes('"msg":"stopping: '))
        // Past the window in which a repeat is the same stop delivered twice.
        .then(() => sleep(1_200))
        .then(() => running.kill('SIGINT'));
    });
    const ended = await running.exited;
    gateway = undefined;
    assert.deepEqual(ended, { code: 0, signal: null }, running.output().slice(-2000));
    assert.ok(hasErrorEvent('openai', '/v1/chat/completions', text), text);
    assert.ok(!looksFinished('openai', '/v1/chat/completions', text), text);
    assert.match(text, /"type":"service_unavailable"/, text);
    assert.match(
      running.output(),
      /"msg":"a second stop signal: ending the model calls still running now"/,
    );
    assert.match(running.output(), /"msg":"a model call was ended at the drain deadline"/);
    await until('the cut stream to be hung up upstream', () => upstream.waiting === 0);
  });
});
