import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayEndpoint } from '@aigw/contracts';
import type { GatewayRequest } from '@aigw/contracts/data-plane';
import { cutJson } from './cut-json';
import { cutText } from './cut-text';
import { PayloadCapture } from './payload-capture';

/** What payload logging did before cutJson: the whole text, then the cut. */
const reference = (value: unknown, maxBytes: number) =>
  cutText(JSON.stringify(value) ?? '', maxBytes);

/** A seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Escaped ones ('"', '\\', controls, lone surrogates), 2-, 3- and 4-byte ones, and plain.
const PIECES = ['a', 'Z', ' ', '"', '\\', '\n', '\t', '\b', '\u0000', '\u001f', '\u007f'];
PIECES.push('é', '\u2028', '€', '😀', '\ud83d', '\ude00', '/', '<');

function randomValue(next: () => number, depth: number): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const text = () => {
    let s = '';
    const n = Math.floor(next() * (next() < 0.1 ? 80 : 12));
    for (let i = 0; i < n; i++) s += pick(PIECES);
    return s;
  };
  const kind = depth > 3 ? Math.floor(next() * 4) : Math.floor(next() * 9);
  switch (kind) {
    case 0:
      return text();
    case 1:
      return pick([0, -0, 1, -17, 3.25, 1e21, 1.5e-7, 2 ** 53, NaN, Infinity, -Infinity]);
    case 2:
      return pick([true, false, null]);
    case 3:
      return pick([undefined, () => 1, Symbol('s'), text()]);
    case 4:
    case 5: {
      const items = Array.from({ length: Math.floor(next() * 5) }, () =>
        randomValue(next, depth + 1),
      );
      if (next() < 0.1) items.length += 2; // holes
      return items;
    }
    case 6:
      return { toJSON: (key: string) => (key.length % 2 === 0 ? key : [key, undefined]) };
    default: {
      const object: Record<string, unknown> = {};
      const n = Math.floor(next() * 5);
      for (let i = 0; i < n; i++)
        object[next() < 0.2 ? String(i) : text()] = randomValue(next, depth + 1);
      return object;
    }
  }
}

describe('cutJson', () => {
  it('matches JSON.stringify then cutText on random values, at every size around theirs', () => {
    const next = random(20261205);
    for (let round = 0; round < 3000; round++) {
      const seed = Math.floor(next() * 2 ** 31);
      const value = randomValue(random(seed), 0);
      const whole = Buffer.byteLength(JSON.stringify(value) ?? '');
      const sizes = round < 300 ? Array.from({ length: whole + 3 }, (_, i) => i) : [];
      sizes.push(Math.floor(next() * (whole + 8)), 256, 1);
      for (const maxBytes of sizes) {
        assert.deepEqual(
          cutJson(value, maxBytes),
          reference(value, maxBytes),
          `seed ${seed}, maxBytes ${maxBytes}`,
        );
      }
    }
  });

  it('escapes, counts and cuts like JSON.stringify on chosen edges', () => {
    const cases: [unknown, number][] = [
      [{ a: '😀😀' }, 7], // the cut falls inside the pair's 4 bytes: it goes whole
      [{ a: '😀😀' }, 10],
      [['\ud83d', 'x'], 3], // a lone surrogate is escaped as \ud83d
      ['\ud83d\ude00'.repeat(300), 256], // a pair across the head's end
      ['x'.repeat(255) + '😀', 256],
      [{ a: undefined, b: () => 1, c: 1 }, 256], // the first members left out: no comma
      [[undefined, () => 1, Symbol('s')], 256],
      [{ d: new Date(0), n: [NaN, -0, 1e300] }, 256],
      [{ '"\n': '\u0001\u2028' }, 3],
      [undefined, 256],
      ['', 0],
      [{ nested: [[[{ deep: ['a\\b'] }]]] }, 20],
    ];
    for (const [value, maxBytes] of cases) {
      assert.deepEqual(cutJson(value, maxBytes), reference(value, maxBytes), String(maxBytes));
    }
  });

  it('throws as JSON.stringify does for a cycle or a BigInt, and unboxes boxed primitives', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    assert.throws(() => cutJson(cycle, 256), /circular/);
    assert.throws(() => cutJson({ n: 1n }, 256), /BigInt/);
    const boxed = { n: Object(1), s: Object('s'), b: Object(false) };
    assert.deepEqual(cutJson(boxed, 256), reference(boxed, 256));
    // A repeated object that is no cycle is written twice, as JSON.stringify does.
    const shared = { x: 1 };
    assert.deepEqual(cutJson([shared, shared], 256), reference([shared, shared], 256));
  });

  it('writes a body nested deeper than JSON.stringify can', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const cut = cutJson(deep, 256);
    assert.equal(cut.text, '['.repeat(256));
    assert.equal(cut.bytes, 200_002);
    assert.equal(cut.truncated, true);
  });
});

describe('payload capture of a large body', () => {
  const logging = { route: 'r', maxBytes: 4096, sampleRate: 1 };
  const image = 'data:image/png;base64,' + 'QUJD'.repeat(5_000_000); // 20 MB
  const body = {
    model: 'm',
    messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: image } }] }],
  };

  /** The longest text JSON.stringify made while `run` ran. */
  function longestStringified(run: () => void): number {
    const stringify = JSON.stringify;
    let longest = 0;
    JSON.stringify = ((...args: Parameters<typeof stringify>) => {
      const text = stringify(...args);
      longest = Math.max(longest, text?.length ?? 0);
      return text;
    }) as typeof stringify;
    try {
      run();
    } finally {
      JSON.stringify = stringify;
    }
    return longest;
  }

  it('keeps maxBytes of a 20 MB request and answer, and their whole size, making no 20 MB text', () => {
    const request = { requestId: 'q', operation: 'chat', body } as unknown as GatewayRequest;
    let logged: ReturnType<PayloadCapture['finish']> | undefined;
    const longest = longestStringified(() => {
      const capture = PayloadCapture.start(
        logging,
        GatewayEndpoint.ChatCompletions,
        request,
        () => undefined,
      )!;
      capture.answer({ data: [{ b64_json: image }] });
      logged = capture.finish({ httpStatus: 200 }, performance.now());
    });
    assert.ok(longest <= 4096 * 6 + 2, `JSON.stringify made ${longest} characters`);
    const whole = JSON.stringify(body);
    assert.deepEqual(logged!.requestBody, reference(body, 4096));
    assert.equal(logged!.requestBody.bytes, whole.length);
    assert.equal(logged!.requestBody.text, whole.slice(0, 4096));
    assert.equal(logged!.responseBody.truncated, true);
    assert.equal(
      logged!.responseBody.bytes,
      JSON.stringify({ data: [{ b64_json: image }] }).length,
    );
  });
});
