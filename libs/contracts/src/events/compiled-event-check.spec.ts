import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ClassConstructor } from 'class-transformer';
import {
  Equals,
  IsString,
  ValidateBy,
  ValidateNested,
  type ValidationArguments,
} from 'class-validator';
import { CONSUMED_EVENT_VALIDATION, validatePlain } from '../validation/validate-plain';
import { instanceIfValid } from './compiled-event-check';
import { EVENT_CATALOG, type EventTopic, type GatewayEvent } from './event-catalog';
import { decodeEvent, serializeEvent } from './event-codec';
import { LimitKind } from './event-enums';
import { oneOfEachEvent } from './one-of-each-event-fixture';

// Every field of every event type filled, optional ones too, so each validator runs.
const EVERY_TYPE = (): GatewayEvent[] => oneOfEachEvent('every');

/** Values that break one validator or another, or pass where another field's would not. */
const PROBES: readonly unknown[] = [
  null,
  '',
  ' ',
  'x',
  'x'.repeat(65),
  'x'.repeat(129),
  'x'.repeat(257),
  'x'.repeat(1025),
  '\u0001ops',
  '😀'.repeat(200),
  '5',
  0,
  -1,
  1,
  1.5,
  99,
  100,
  399,
  400,
  599,
  600,
  1e300,
  true,
  false,
  'reset',
  'credit',
  'usage.recorded',
  'request.completed',
  'chat.completions',
  'reported',
  'success',
  'rate_limit',
  'dollars',
  'recovered',
  LimitKind.MaxDailyCostPerUser,
  LimitKind.TokenBudgetPerUser,
  'not a time',
  '2025-07-01',
  '2025-07-01T00:00:00Z',
  '2025-07-01T24:00:00.000Z',
  '2025-02-30T00:00:00.000Z',
  '1969-12-31T23:59:59.000Z',
  '2107-01-01T00:00:00.000Z',
  '2025-W27-1',
  '019aea5c-1f2e-7abc-8def-0123456789ab',
  '019aea5c-1f2e-7abc-8def-0123456789a',
];

/** The parsed JSON of the event, with `change` applied. */
function variant(event: GatewayEvent, change: (plain: Record<string, unknown>) => void) {
  const plain = JSON.parse(serializeEvent(event).json) as Record<string, unknown>;
  change(plain);
  return plain;
}

/** Every variant: as is, each field left out, each field set to each probe. */
function* variants(event: GatewayEvent): Generator<[string, Record<string, unknown>]> {
  yield ['as is', variant(event, () => undefined)];
  const fields = Object.keys(new (classOf(event))()).concat('budgetKey');
  for (const field of new Set(fields)) {
    yield [`${field} left out`, variant(event, (plain) => delete plain[field])];
    for (const probe of PROBES) {
      yield [
        `${field} = ${JSON.stringify(probe)}`,
        variant(event, (plain) => (plain[field] = probe)),
      ];
    }
  }
}

function topicOf(event: GatewayEvent): EventTopic {
  const topic = (Object.keys(EVENT_CATALOG) as EventTopic[]).find(
    (t) => EVENT_CATALOG[t].type === event.type,
  );
  assert.ok(topic);
  return topic;
}

function classOf(event: GatewayEvent): ClassConstructor<GatewayEvent> {
  return EVENT_CATALOG[topicOf(event)].cls;
}

/** Same class, same own keys in the same order, same values. */
function assertSameInstance(actual: object, expected: object, label: string): void {
  assert.equal(Object.getPrototypeOf(actual), Object.getPrototypeOf(expected), label);
  assert.deepEqual(Object.keys(actual), Object.keys(expected), label);
  assert.deepStrictEqual(actual, expected, label);
  assert.equal(JSON.stringify(actual), JSON.stringify(expected), label);
}

describe('compiled event check', () => {
  it('accepts exactly what plainToInstance + validateSync accept, as the same instance', () => {
    let accepted = 0;
    let refused = 0;
    for (const event of EVERY_TYPE()) {
      const cls = classOf(event);
      for (const [name, plain] of variants(event)) {
        const label = `${event.type}: ${name}`;
        const reference = validatePlain(cls, structuredClone(plain), CONSUMED_EVENT_VALIDATION);
        const compiled = instanceIfValid(cls, structuredClone(plain));
        const declared = new Set(Object.keys(new cls()));
        if (!Object.keys(plain).every((key) => declared.has(key))) {
          // A field the class does not declare: the full check strips it.
          assert.equal(compiled, undefined, `${label}: an undeclared field`);
        } else if (reference.ok) {
          accepted++;
          assert.ok(compiled, `${label}: class-validator accepts it, the compiled check does not`);
          assertSameInstance(compiled, reference.value, label);
        } else {
          refused++;
          assert.equal(compiled, undefined, `${label}: class-validator refuses it`);
        }
      }
    }
    // The probes reach both sides of every field's check.
    assert.ok(accepted > 300, `accepted ${accepted}`);
    assert.ok(refused > 2000, `refused ${refused}`);
  });

  it('leaves an event with a field it does not declare to the full check, which drops it', () => {
    const [event] = EVERY_TYPE();
    const plain = variant(event, (p) => (p.addedByANewerBuild = 1));
    assert.equal(instanceIfValid(classOf(event), plain), undefined);
    const decoded = decodeEvent(topicOf(event), JSON.stringify(plain));
    assert.ok(decoded.ok);
    assert.equal('addedByANewerBuild' in decoded.value, false);
    assertSameInstance(decoded.value, event, 'decoded');
  });

  it('leaves object and array values to the full check', () => {
    const [event] = EVERY_TYPE();
    const cls = classOf(event);
    assert.equal(
      instanceIfValid(
        cls,
        variant(event, (p) => (p.tier = ['pro'])),
      ),
      undefined,
    );
    assert.equal(
      instanceIfValid(
        cls,
        variant(event, (p) => (p.tier = { name: 'pro' })),
      ),
      undefined,
    );
    const decoded = decodeEvent(
      topicOf(event),
      JSON.stringify(variant(event, (p) => (p.tier = []))),
    );
    assert.equal(decoded.ok, false);
  });

  it('decodes every event type to the event that was encoded', () => {
    for (const event of EVERY_TYPE()) {
      const decoded = decodeEvent(topicOf(event), serializeEvent(event).json);
      assert.ok(decoded.ok, event.type);
      assertSameInstance(decoded.value, event, event.type);
    }
  });

  it('gives a refused event the issues class-validator names', () => {
    const event = EVERY_TYPE()[3];
    const plain = variant(event, (p) => {
      p.inputTokens = -1;
      p.userId = '';
    });
    const decoded = decodeEvent(topicOf(event), JSON.stringify(plain));
    assert.equal(decoded.ok, false);
    const reference = validatePlain(classOf(event), plain, CONSUMED_EVENT_VALIDATION);
    assert.equal(reference.ok, false);
    assert.deepEqual(
      !decoded.ok && decoded.error.details?.issues,
      !reference.ok && reference.error,
    );
  });

  it('holds no event after its check', () => {
    // A validator that keeps its arguments finds them emptied once the check is done.
    const kept: ValidationArguments[] = [];
    class Probe {
      @Equals('probe')
      type = 'probe';

      @ValidateBy({
        name: 'keepsArguments',
        validator: { validate: (_value: unknown, args) => kept.push(args!) > 0 },
      })
      name?: string;
    }
    const instance = instanceIfValid(Probe, { type: 'probe', name: 'a' });
    assert.ok(instance);
    assert.equal(instance.name, 'a');
    assert.equal(kept.length, 1);
    assert.notEqual(kept[0].object, instance);
    assert.equal(kept[0].value, undefined);
  });

  it('leaves classes with nested validation to the full check', () => {
    class Inner {
      @IsString()
      name!: string;
    }
    class Outer {
      @ValidateNested()
      inner?: Inner;

      @IsString()
      label!: string;
    }
    assert.equal(instanceIfValid(Outer, { label: 'x' }), undefined);
  });
});
