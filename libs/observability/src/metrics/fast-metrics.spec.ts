import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Histogram, type OpenMetricsContentType, Registry } from 'prom-client';
import { FastCounter, FastHistogram, type LabelValue } from './fast-metrics';

/*
 * Every case drives prom-client's own Counter/Histogram in one Registry and the fast ones in
 * another with the same observations, then compares what the registries render.
 */

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LABELS = ['operation', 'model', 'provider', 'error_type'] as const;

type Values = readonly LabelValue[];

function labelObject(names: readonly string[], values: Values): Record<string, string> {
  const labels: Record<string, string> = {};
  names.forEach((name, i) => {
    const value = values[i];
    if (value !== undefined) labels[name] = value;
  });
  return labels;
}

/** The same metrics twice: prom-client's in `reference`, ours in `fast`. */
function twins(reference = new Registry(), fast = new Registry()) {
  const config = { name: 'llm_latency_seconds', help: 'Latency\\of "calls"\nper model' };
  const promHistogram = new Histogram({
    ...config,
    labelNames: LABELS,
    buckets: BUCKETS,
    registers: [reference],
  });
  const fastHistogram = new FastHistogram({
    ...config,
    labelNames: LABELS,
    buckets: BUCKETS,
    registers: [fast],
  });
  const counterConfig = { name: 'llm_cost_total', help: 'Dollars', labelNames: ['user', 'model'] };
  const promCounter = new Counter({ ...counterConfig, registers: [reference] });
  const fastCounter = new FastCounter({
    ...counterConfig,
    labelNames: ['user', 'model'] as const,
    registers: [fast],
  });
  // Label-less metrics print a series before any observation; check both kinds.
  const plainConfig = { name: 'lag_seconds', help: 'Lag', buckets: [0.1, 1, 10] };
  const promPlain = new Histogram({ ...plainConfig, registers: [reference] });
  const fastPlain = new FastHistogram({ ...plainConfig, registers: [fast] });
  const promTotal = new Counter({ name: 'events_total', help: 'Events', registers: [reference] });
  const fastTotal = new FastCounter({ name: 'events_total', help: 'Events', registers: [fast] });
  // A labelled counter that never gets an observation prints only HELP and TYPE.
  new Counter({ name: 'unused_total', help: 'Unused', labelNames: ['x'], registers: [reference] });
  new FastCounter({ name: 'unused_total', help: 'Unused', labelNames: ['x'], registers: [fast] });

  return {
    reference,
    fast,
    observe(values: Values, value: number): void {
      promHistogram.observe(labelObject(LABELS, values), value);
      fastHistogram.observe([values[0], values[1], values[2], values[3]], value);
    },
    inc(user: string, model: string, value?: number): void {
      promCounter.inc({ user, model }, value);
      fastCounter.inc([user, model], value);
    },
    observePlain(value: number): void {
      promPlain.observe(value);
      fastPlain.observe([], value);
    },
    incTotal(value?: number): void {
      promTotal.inc(value);
      fastTotal.inc([], value);
    },
  };
}

type Twins = ReturnType<typeof twins>;

function openMetricsRegistry(): Registry {
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  // The typings fix a Registry's content type at construction; twins() takes either kind.
  return registry as unknown as Registry;
}

function drive(t: Twins): void {
  const combos: Values[] = [
    ['chat', 'gpt-4o', 'openai', undefined],
    ['chat', 'gpt-4o', 'openai', 'timeout'],
    ['embeddings', 'text-embedding-3', 'openai', undefined],
    ['chat', 'claude "3"\\\n', 'aws.bedrock', undefined],
    ['chat', 'gpt-4o', 'azure', undefined],
  ];
  const values = [0, ...BUCKETS, 0.0049, 0.3, 7, 10.0001, 1e9, 123456.789, -0.5, 1 / 3];
  values.forEach((value, i) => {
    for (const [j, combo] of combos.entries()) {
      if ((i + j) % 3 !== 0) t.observe(combo, value);
    }
    t.observePlain(value);
  });
  for (let i = 0; i < 25; i++) {
    t.inc(`user-${i % 3}`, i % 2 ? 'gpt-4o' : 'claude', 0.1 + i / 1000);
    t.inc('user-0', 'gpt-4o', 0.1);
    t.inc('user-0', 'gpt-4o', 0.2);
    t.incTotal(i % 4 === 0 ? undefined : 1e-7 * i);
  }
  t.inc('user-9', 'gpt-4o', 0);
  t.inc('user-8', 'gpt-4o');
}

async function assertSameExposition(t: Twins): Promise<void> {
  assert.equal(await t.fast.metrics(), await t.reference.metrics());
  assert.deepEqual(await t.fast.getMetricsAsJSON(), await t.reference.getMetricsAsJSON());
  // Same key order too, so JSON consumers see the same bytes.
  assert.equal(
    JSON.stringify(await t.fast.getMetricsAsJSON()),
    JSON.stringify(await t.reference.getMetricsAsJSON()),
  );
}

describe('FastCounter and FastHistogram', () => {
  it('render the same text and JSON as prom-client before any observation', async () => {
    await assertSameExposition(twins());
  });

  it('render the same text and JSON as prom-client for the same observations', async () => {
    const t = twins();
    drive(t);
    const text = await t.fast.metrics();
    assert.ok(text.includes('llm_latency_seconds_bucket{le="+Inf",operation="chat"'), text);
    assert.ok(text.includes('error_type="timeout"'));
    assert.ok(text.includes('events_total '));
    await assertSameExposition(t);
  });

  it('reset like prom-client through Registry.resetMetrics()', async () => {
    const t = twins();
    drive(t);
    t.reference.resetMetrics();
    t.fast.resetMetrics();
    await assertSameExposition(t);
    drive(t);
    await assertSameExposition(t);
  });

  it('carry the registry default labels the way prom-client does', async () => {
    const t = twins();
    // `model` collides with a series label: the series' own value must win, as in prom-client.
    for (const registry of [t.reference, t.fast]) {
      registry.setDefaultLabels({ service: 'ingress', model: 'default-model' });
    }
    drive(t);
    await assertSameExposition(t);
    assert.ok((await t.fast.metrics()).includes('service="ingress"'));
    // getMetricsAsJSON must not leak default labels into later renders.
    await assertSameExposition(t);
  });

  it('merge with other registries through Registry.merge', async () => {
    const t = twins();
    drive(t);
    const other = () => {
      const registry = new Registry();
      new Counter({ name: 'other_total', help: 'Other', registers: [registry] }).inc(3);
      return registry;
    };
    const merged = Registry.merge([t.fast, other()]);
    const expected = Registry.merge([t.reference, other()]);
    assert.equal(await merged.metrics(), await expected.metrics());
    assert.equal(merged.contentType, expected.contentType);
    assert.throws(() => Registry.merge([t.fast, twins().fast]), /already been registered/);
  });

  it('render the same OpenMetrics text as prom-client', async () => {
    const t = twins(openMetricsRegistry(), openMetricsRegistry());
    drive(t);
    const text = await t.fast.metrics();
    assert.ok(text.endsWith('# EOF\n'));
    assert.equal(text, await t.reference.metrics());
    // Rendering renames counters in place (drops `_total`); a second render must agree too.
    assert.equal(await t.fast.metrics(), await t.reference.metrics());
  });

  it('reject what prom-client rejects, leaving no series behind', async () => {
    const t = twins();
    const histogram = new FastHistogram({
      name: 'h',
      help: 'h',
      labelNames: ['a'],
      buckets: [1],
      registers: [t.fast],
    });
    const counter = new FastCounter({ name: 'c', help: 'c', labelNames: ['a'], registers: [] });
    const before = await t.fast.metrics();
    for (const bad of [NaN, Infinity, -Infinity]) {
      assert.throws(() => histogram.observe(['x'], bad), TypeError);
      assert.throws(() => counter.inc(['x'], bad), TypeError);
    }
    assert.throws(() => counter.inc(['x'], -1), /not possible to decrease a counter/);
    assert.equal(await t.fast.metrics(), before);
    assert.deepEqual((await counter.get()).values, []);
  });

  it('refuse a wrong number of label values and bad definitions', () => {
    const histogram = new FastHistogram({
      name: 'h',
      help: 'h',
      labelNames: ['a', 'b'],
      buckets: [1],
      registers: [],
    });
    const wrongArity: readonly string[] = ['only-one'];
    assert.throws(
      () => histogram.observe(wrongArity as readonly [string, string], 1),
      /label values/,
    );
    const base = { help: 'h', buckets: [1], registers: [] };
    assert.throws(() => new FastHistogram({ ...base, name: 'h', labelNames: ['le'] }), /reserved/);
    assert.throws(() => new FastHistogram({ ...base, name: 'bad-name' }), /Invalid metric name/);
    assert.throws(
      () => new FastHistogram({ ...base, name: 'h', labelNames: ['bad-label'] }),
      /Invalid label name/,
    );
    assert.throws(() => new FastHistogram({ ...base, name: 'h', buckets: [1, 1] }), /increasing/);
    assert.throws(
      () => new FastCounter({ name: 'c', help: '', registers: [] }),
      /Missing mandatory help/,
    );
  });

  it('share a registry with prom-client metrics, but not a name', () => {
    const registry = new Registry();
    new Counter({ name: 'taken_total', help: 'Taken', registers: [registry] });
    assert.throws(
      () => new FastCounter({ name: 'taken_total', help: 'Taken', registers: [registry] }),
      /already been registered/,
    );
  });
});
