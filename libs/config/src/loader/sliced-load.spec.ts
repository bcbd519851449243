// The load in slices (a hot reload) gives the same result as the load straight through,
// errors included, and gives the event loop back a number of times that grows with the
// file as the file does: counted with a clock that says every step ran long, not timed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { largeConfig, type LargeConfigSize } from './large-config-fixture';
import { parseGatewayConfig, parseGatewayConfigInSlices, type LoadResult } from './load-config';
import { ENTRIES_PER_STEP } from './validate-in-slices';

/** The sliced load, pausing after every step; resolves with the result and the pauses. */
async function slicedLoad(text: string, env: Record<string, string>) {
  let clock = 0;
  let pauses = 0;
  const result = await parseGatewayConfigInSlices(
    text,
    { env, sourceName: 'gw.yaml' },
    {
      sliceMs: 1,
      now: () => (clock += 1),
      pause: () => {
        pauses += 1;
        return Promise.resolve();
      },
    },
  );
  return { result, pauses };
}

const straightLoad = (text: string, env: Record<string, string>) =>
  parseGatewayConfig(text, { env, sourceName: 'gw.yaml' });

/** Every line of a result, as the services log it. */
function linesOf(result: LoadResult): string[] {
  if (!result.ok) return result.errors.map((e) => `error: ${e.format()}`);
  return [
    ...result.warnings.map((w) => `warning: ${w}`),
    ...result.inferences.map((i) => `inference: ${i}`),
    ...result.notes.map((n) => `note: ${n}`),
  ];
}

// Long enough lists (a route of 250 backends, 250 tiers) that their entries are sliced.
const size: LargeConfigSize = { backends: 250, tiers: 250, backendsPerRoute: 250 };

describe('loading in slices', () => {
  it('gives the same config, warnings and inferences as the load straight through', async () => {
    const { text, env } = largeConfig(size);
    const straight = straightLoad(text, env);
    const { result: sliced } = await slicedLoad(text, env);
    assert.ok(straight.ok && sliced.ok);
    assert.deepStrictEqual(sliced.config, straight.config);
    assert.ok(Object.isFrozen(sliced.config.routes[0].backends[0]));
    assert.deepEqual(linesOf(sliced), linesOf(straight));
    assert.ok(linesOf(straight).length > 250, 'inferences and warnings to compare');
  });

  it('refuses a bad entry deep in a long list with the same errors, in the same order', async () => {
    const { text, env } = largeConfig(size);
    const badEntries = text
      .replace('- name: tier-180\n', '- name: tier-180\n  colour: red\n')
      .replace('  - name: openai-0-120\n', '  - name: openai-0-120\n    region: eu\n');
    // A bad field beside the lists too: refused before any entry is looked at.
    const badRoute = badEntries.replace('explorationPercent: 10', 'explorationPercent: many');
    for (const bad of [badEntries, badRoute]) {
      const straight = straightLoad(bad, env);
      const { result: sliced } = await slicedLoad(bad, env);
      assert.equal(sliced.ok, false);
      assert.deepEqual(linesOf(sliced), linesOf(straight));
    }
    const errors = linesOf(straightLoad(badEntries, env));
    assert.equal(errors.length, 2, errors.join('\n'));
    assert.match(errors[0], /spec\.backends\[120\]\.region: unknown field/);
    assert.match(errors[1], /userTiers\[180\]\.colour: unknown field/);
  });

  it('gives the loop back at least once per slice of a long list, growing with the file', async () => {
    const pausesFor = async (n: number) => {
      const { text, env } = largeConfig({ backends: n, tiers: n, backendsPerRoute: n });
      const { result, pauses } = await slicedLoad(text, env);
      assert.ok(result.ok);
      return pauses;
    };
    const [small, large] = [await pausesFor(200), await pausesFor(400)];
    assert.ok(large >= (400 + 400) / ENTRIES_PER_STEP, `${large} pauses`);
    const growth = large / small;
    assert.ok(
      growth > 1.6 && growth < 2.4,
      `twice the file, ${growth.toFixed(2)} times the pauses`,
    );
  });
});
