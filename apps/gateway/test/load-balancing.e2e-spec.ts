// Backends of equal priority share the requests by weight through the all-in-one gateway
// (the openai client, real processes, fake upstreams): two deployments of one model split
// its calls 3:1, a standby of weight 0 is called only when they fail, and a failing member
// of the group is covered by the others before a lower priority is tried.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { FakeOpenAiUpstream } from '@aigw/testing/fake-provider';
import { startApp, type AppProcess } from '@aigw/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'aigw-balance-'));

function writeConfig(
  east: FakeOpenAiUpstream,
  west: FakeOpenAiUpstream,
  standby: FakeOpenAiUpstream,
) {
  const file = join(dir, 'config.yaml');
  const backend = (name: string, upstream: FakeOpenAiUpstream, rest: string) =>
    `  - {name: ${name}, provider: vllm, baseUrl: "${upstream.baseUrl}", model: ${name}-model, modelNameOverride: gpt-4o, ${rest}}`;
  writeFileSync(
    file,
    `kind: AIGatewayRoute
metadata: {name: balanced}
spec:
  backends:
${backend('east', east, 'priority: 0, weight: 3')}
${backend('west', west, 'priority: 0')}
${backend('standby', standby, 'priority: 0, weight: 0')}
  failover: {on: [rateLimit, timeout, error], retryDelay: 0s}
`,
  );
  return file;
}

describe('load balancing across backends of equal priority', () => {
  const east = new FakeOpenAiUpstream('east');
  const west = new FakeOpenAiUpstream('west');
  const standby = new FakeOpenAiUpstream('standby');
  let gateway: AppProcess;
  let client: OpenAI;

  before(async () => {
    await Promise.all([east.start(), west.start(), standby.start()]);
    gateway = await startApp('gateway', {
      AI_GATEWAY_CONFIG: writeConfig(east, west, standby),
      AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    });
    client = new OpenAI({ baseURL: `${gateway.baseUrl}/v1`, apiKey: 'c', maxRetries: 0 });
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([east.stop(), west.stop(), standby.stop()]);
  });

  beforeEach(() => {
    for (const upstream of [east, west, standby]) upstream.reset();
  });

  const ask = () =>
    client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });

  it('splits the calls 3:1 by weight and never calls the standby while they answer', async () => {
    for (let i = 0; i < 40; i++) assert.equal((await ask()).model, 'gpt-4o');
    assert.equal(east.calls.length, 30);
    assert.equal(west.calls.length, 10);
    assert.equal(standby.calls.length, 0);
    assert.equal(west.calls[0].body.model, 'west-model');
  });

  it('covers a failing member with the rest of its group, then the standby', async () => {
    west.always({ kind: 'status', status: 503 });
    for (let i = 0; i < 8; i++) await ask();
    assert.equal(east.calls.length, 8, 'every call answered by east');
    assert.equal(standby.calls.length, 0);

    east.always({ kind: 'status', status: 503 });
    const answer = await ask();
    assert.equal(answer.model, 'gpt-4o');
    assert.equal(standby.calls.length, 1, 'the standby answers once both fail');
  });
});
