// Bad config files: each problem is one line naming document, field path and expectation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from './load-config';
import { refusalsOf } from './refused-config-fixture';

const options = { missingSecrets: 'warn', env: {} } as const;

function errorsOf(text: string): string[] {
  return refusalsOf(text, { ...options, sourceName: 'gw.yaml' });
}

const ROUTE_HEAD =
  'apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nmetadata:\n  name: r\nspec:\n';

describe('bad input', () => {
  it('malformed YAML: one line with the line number, no YAML excerpt', () => {
    const errors = errorsOf('kind: AIGatewayRoute\nmetadata:\n  name: [unclosed\nspec: {}\n');
    assert.ok(errors.length >= 1);
    for (const line of errors) {
      assert.doesNotMatch(line, /\n/);
      assert.match(line, /^gw\.yaml:\d+: document 1: YAML syntax error: /);
    }
  });

  it('duplicate keys are a syntax error with the line', () => {
    const [line] = errorsOf(`${ROUTE_HEAD}  caching: {}\n  caching: {}\n`);
    assert.match(line, /^gw\.yaml:7: .*YAML syntax error: Map keys must be unique/);
  });

  it('a syntax error never quotes the text it stopped at (it may be a pasted key)', () => {
    const key = 'sk-proj-PASTEDKEY0123456789';
    const cases = [
      `backends: {a: 1}}${key}\n`,
      `backends: |x${key}\n  text\n`,
      `backends: "\\q${key}"\n`,
    ];
    for (const text of cases) {
      const errors = errorsOf(text);
      assert.ok(errors.length > 0);
      for (const line of errors) {
        assert.doesNotMatch(line, /PASTEDKEY/, `for ${JSON.stringify(text)}`);
        assert.match(line, /^gw\.yaml:1: document 1: YAML syntax error: [A-Z]/);
      }
    }
    assert.ok(
      errorsOf(cases[0]).includes(
        'gw.yaml:1: document 1: YAML syntax error: Unexpected scalar token in YAML stream',
      ),
    );
  });

  it('unknown kind names the kinds it accepts', () => {
    const [line] = errorsOf('apiVersion: v1\nkind: Gateway\nmetadata:\n  name: g\n');
    assert.equal(
      line,
      'gw.yaml:2: document 1 (Gateway "g"): kind: unknown kind "Gateway": expected AIGatewayRoute or SecurityPolicy',
    );
  });

  it('names the document by index when several are present', () => {
    const errors = errorsOf(`${ROUTE_HEAD}  caching: {}\n---\nkind: Nope\n`);
    assert.deepEqual(errors, [
      'gw.yaml:8: document 2 (Nope): kind: unknown kind "Nope": expected AIGatewayRoute or SecurityPolicy',
    ]);
  });

  it('wrong type: path, line and expectation', () => {
    const errors = errorsOf(
      `${ROUTE_HEAD}  backends:\n  - name: a\n    provider: openai\n  - name: b\n    provider: openai\n    priority: high\n`,
    );
    assert.deepEqual(errors, [
      'gw.yaml:11: document 1 (AIGatewayRoute "r"): spec.backends[1].priority: expected an integer >= 0 (lower is tried first)',
    ]);
  });

  it('wrong values never appear in the message', () => {
    const errors = errorsOf(`${ROUTE_HEAD}  caching:\n    ttl: sk-live-0123456789abcdef\n`);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /spec\.caching\.ttl: expected a duration/);
    assert.doesNotMatch(errors[0], /sk-live/);
  });

  it('a budget period of "1M" is refused, naming the minute and the month forms', () => {
    const errors = errorsOf(
      `${ROUTE_HEAD}  backends:\n  - {name: a, provider: openai}\n  tokenBudget:\n    perUser: {limit: 100000, period: 1M}\n`,
    );
    assert.deepEqual(errors, [
      'gw.yaml:9: document 1 (AIGatewayRoute "r"): spec.tokenBudget.perUser.period: expected a period such as "1m" (a minute), "1d", "30d", "1w" or "1mo" (a calendar month; "1M" is refused as it means either)',
    ]);
  });

  it('unknown field lists the allowed ones', () => {
    const [line] = errorsOf(`${ROUTE_HEAD}  failover:\n    onn: [timeout]\n`);
    assert.match(
      line,
      /spec\.failover\.onn: unknown field \(expected one of: on, retryAttempts, retryDelay\)/,
    );
  });

  it('missing required field and bad enum', () => {
    const errors = errorsOf(
      `${ROUTE_HEAD}  backends:\n  - provider: openai\n  failover:\n    on: [sometimes]\n`,
    );
    assert.ok(
      errors.some((e) => e.includes('spec.backends[0].name: is required')),
      errors.join('\n'),
    );
    assert.ok(
      errors.some((e) =>
        e.includes('spec.failover.on: expected one of rateLimit, timeout, error, budgetExceeded'),
      ),
    );
  });

  it('metadata.name is required for a kinded document', () => {
    const [line] = errorsOf(
      'apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\nspec: {}\n',
    );
    assert.match(line, /document 1 \(AIGatewayRoute\): metadata: is required/);
  });

  it('a kind-less document with foreign keys is rejected, naming them', () => {
    const [line] = errorsOf('caching: {}\nlisteners: []\n');
    assert.match(line, /has no kind, and "listeners" is not a route setting/);
  });

  it('vllm and kserve need baseUrl', () => {
    const errors = errorsOf(
      `${ROUTE_HEAD}  backends:\n  - name: local\n    provider: vllm\n    model: llama-3-8b\n  - name: ks\n    provider: kserve\n`,
    );
    assert.equal(errors.length, 2);
    assert.match(errors[0], /spec\.backends\[0\]\.baseUrl: is required for provider vllm/);
    assert.match(errors[1], /spec\.backends\[1\]\.baseUrl: is required for provider kserve/);
  });

  it('an open-weight model alone does not pick a provider', () => {
    const [line] = errorsOf(`${ROUTE_HEAD}  backends:\n  - name: b1\n    model: llama-3-70b\n`);
    assert.match(
      line,
      /spec\.backends\[0\]\.provider: is required here \(model "llama-3-70b" is served by several providers\)/,
    );
  });

  it('duplicate names: routes and backends', () => {
    const errors = errorsOf(
      `${ROUTE_HEAD}  backends:\n  - {name: openai}\n  - {name: openai}\n---\n${ROUTE_HEAD}  caching: {}\n`,
    );
    assert.ok(errors.some((e) => e.includes('duplicate backend name "openai"')));
    assert.ok(
      errors.some((e) =>
        e.includes('document 2 (AIGatewayRoute "r"): metadata.name: duplicate route name "r"'),
      ),
    );
  });

  it('two SecurityPolicies of one route declaring a JWT provider of the same name', () => {
    const policy = (name: string, issuer: string, route: string) =>
      `---\napiVersion: gateway.envoyproxy.io/v1alpha1\nkind: SecurityPolicy\nmetadata: {name: ${name}}\nspec:\n  targetRefs: [{kind: AIGatewayRoute, name: ${route}}]\n  jwt:\n    providers:\n    - {name: ${name}-own, issuer: https://other.test, audiences: [a], remoteJWKS: {uri: "https://other.test/jwks"}}\n    - {name: corp, issuer: ${issuer}, audiences: [a], remoteJWKS: {uri: "${issuer}/jwks"}}\n`;
    const routes = `${ROUTE_HEAD}  backends: [{name: b, provider: local}]\n---\n${ROUTE_HEAD.replace('name: r', 'name: s')}  backends: [{name: c, provider: local, model: m}]\n`;
    const errors = errorsOf(
      // "third" declares a corp too, for another route: allowed.
      `${routes}${policy('first', 'https://a.test', 'r')}${policy('second', 'https://b.test', 'r')}${policy('third', 'https://c.test', 's')}`,
    );
    assert.deepEqual(errors, [
      'gw.yaml:33: document 4 (SecurityPolicy "second"): spec.jwt.providers[1].name: JWT provider "corp" is also declared by SecurityPolicy "first"; both policies target AIGatewayRoute "r", whose providers must have distinct names: rename one',
    ]);
  });

  it('an alias inside the node it names is an error with its line, not a crash', () => {
    // A recursive alias makes the parsed value a cycle; walking it must not overflow the
    // stack (a reload that throws would end the watcher, and with it the process).
    const [line, ...rest] = errorsOf(
      `${ROUTE_HEAD}  backends: &all\n  - name: openai\n    model: gpt-4\n    also: *all\n`,
    );
    assert.deepEqual(rest, []);
    assert.equal(
      line,
      'gw.yaml:9: document 1: YAML: alias *all refers to a node that contains it (a recursive alias)',
    );
  });

  it('an alias naming no anchor, or one aliased past the limit, is an error, not a crash', () => {
    assert.deepEqual(
      errorsOf(`${ROUTE_HEAD}  backends:\n  - {name: a, provider: openai}\n  - *backnd\n`),
      ['gw.yaml:8: document 1: YAML: alias *backnd names no anchor set before it'],
    );
    const aliases = Array.from({ length: 101 }, () => '  - *b').join('\n');
    assert.deepEqual(
      errorsOf(`${ROUTE_HEAD}  backends:\n  - &b {name: a, provider: openai}\n${aliases}\n`),
      [
        'gw.yaml: document 1: YAML: aliases expand to more than 100 copies of an anchor (a guard against alias bombs)',
      ],
    );
  });

  it('an empty file is an error', () => {
    assert.deepEqual(errorsOf('# nothing here\n'), [
      'gw.yaml: no YAML documents: the file is empty',
    ]);
  });

  it('caching.backend must be a type string or a mapping', () => {
    const [line] = errorsOf(`${ROUTE_HEAD}  caching:\n    backend: 42\n`);
    assert.match(
      line,
      /spec\.caching\.backend: expected "redis", "memory", or a mapping \{type, address\}$/,
    );
  });

  it('caching.backend.address applies only to type redis', () => {
    // The address picks the store: with type memory it would send the cache to Redis anyway.
    assert.deepEqual(
      errorsOf(`${ROUTE_HEAD}  caching:\n    backend: {type: memory, address: "redis:6379"}\n`),
      [
        'gw.yaml:7: document 1 (AIGatewayRoute "r"): spec.caching.backend.address: applies only to type redis (a memory cache stays in the process)',
      ],
    );
  });

  it('modelPricing.cachedInputPer1k is optional, and a number >= 0 when given', () => {
    const pricing = (cached: string) =>
      `${ROUTE_HEAD}  costControl:\n    modelPricing:\n` +
      `      claude: {inputPer1k: 0.003, outputPer1k: 0.015${cached}}\n`;
    for (const bad of ['-0.1', '"cheap"', '.nan']) {
      const errors = errorsOf(pricing(`, cachedInputPer1k: ${bad}`));
      assert.deepEqual(
        errors,
        [
          'gw.yaml:8: document 1 (AIGatewayRoute "r"): spec.costControl.modelPricing.claude.cachedInputPer1k: ' +
            'expected US dollars per 1000 input tokens read from cache (a number >= 0)',
        ],
        bad,
      );
    }
    const priced = (cached: string) => {
      const result = parseGatewayConfig(pricing(cached), options);
      assert.ok(result.ok, cached);
      return result.config.routes[0].costControl?.modelPricing.claude;
    };
    assert.deepEqual(priced(', cachedInputPer1k: 0.0003'), {
      inputPer1k: 0.003,
      outputPer1k: 0.015,
      cachedInputPer1k: 0.0003,
    });
    assert.deepEqual(priced(''), { inputPer1k: 0.003, outputPer1k: 0.015 });
  });

  it('modelPricing.cacheWritePer1k is optional, and a number >= 0 when given', () => {
    const pricing = (written: string) =>
      `${ROUTE_HEAD}  costControl:\n    modelPricing:\n` +
      `      claude: {inputPer1k: 0.003, outputPer1k: 0.015${written}}\n`;
    for (const bad of ['-0.1', '"dear"', '.nan', '.inf']) {
      const errors = errorsOf(pricing(`, cacheWritePer1k: ${bad}`));
      assert.deepEqual(
        errors,
        [
          'gw.yaml:8: document 1 (AIGatewayRoute "r"): spec.costControl.modelPricing.claude.cacheWritePer1k: ' +
            'expected US dollars per 1000 input tokens written to cache (a number >= 0)',
        ],
        bad,
      );
    }
    const priced = (written: string) => {
      const result = parseGatewayConfig(pricing(written), options);
      assert.ok(result.ok, written);
      return result.config.routes[0].costControl?.modelPricing.claude;
    };
    assert.deepEqual(priced(', cachedInputPer1k: 0.0003, cacheWritePer1k: 0.00375'), {
      inputPer1k: 0.003,
      outputPer1k: 0.015,
      cachedInputPer1k: 0.0003,
      cacheWritePer1k: 0.00375,
    });
    assert.deepEqual(priced(''), { inputPer1k: 0.003, outputPer1k: 0.015 });
  });

  it('modelPricing.cacheWrite1hPer1k is optional, a number >= 0, on the price and its tiers', () => {
    const pricing = (fields: string) =>
      `${ROUTE_HEAD}  costControl:\n    modelPricing:\n` +
      `      claude: {inputPer1k: 0.003, outputPer1k: 0.015${fields}}\n`;
    const at = 'gw.yaml:8: document 1 (AIGatewayRoute "r"): spec.costControl.modelPricing.claude';
    const expected =
      'expected US dollars per 1000 input tokens written to cache for an hour (a number >= 0)';
    for (const bad of ['-0.1', '"dear"', '.nan', '.inf']) {
      assert.deepEqual(errorsOf(pricing(`, cacheWrite1hPer1k: ${bad}`)), [
        `${at}.cacheWrite1hPer1k: ${expected}`,
      ]);
      assert.deepEqual(
        errorsOf(pricing(`, tiers: [{aboveInputTokens: 200000, cacheWrite1hPer1k: ${bad}}]`)),
        [`${at}.tiers[0].cacheWrite1hPer1k: ${expected}`],
      );
    }
    const result = parseGatewayConfig(
      pricing(
        ', cacheWritePer1k: 0.00375, cacheWrite1hPer1k: 0.006, ' +
          'tiers: [{aboveInputTokens: 200000, cacheWrite1hPer1k: 0.012}]',
      ),
      options,
    );
    assert.ok(result.ok);
    assert.deepEqual(result.config.routes[0].costControl?.modelPricing.claude, {
      inputPer1k: 0.003,
      outputPer1k: 0.015,
      cacheWritePer1k: 0.00375,
      cacheWrite1hPer1k: 0.006,
      tiers: [{ aboveInputTokens: 200000, cacheWrite1hPer1k: 0.012 }],
    });
  });

  it('modelPricing.imageInputPer1k is optional, a number >= 0, on the price and its tiers', () => {
    const pricing = (fields: string) =>
      `${ROUTE_HEAD}  costControl:\n    modelPricing:\n` +
      `      gpt-image-1: {inputPer1k: 0.005, outputPer1k: 0.04${fields}}\n`;
    const at =
      'gw.yaml:8: document 1 (AIGatewayRoute "r"): spec.costControl.modelPricing["gpt-image-1"]';
    const expected = 'expected US dollars per 1000 image input tokens (a number >= 0)';
    for (const bad of ['-0.1', '"dear"', '.nan', '.inf']) {
      assert.deepEqual(errorsOf(pricing(`, imageInputPer1k: ${bad}`)), [
        `${at}.imageInputPer1k: ${expected}`,
      ]);
      assert.deepEqual(
        errorsOf(pricing(`, tiers: [{aboveInputTokens: 200000, imageInputPer1k: ${bad}}]`)),
        [`${at}.tiers[0].imageInputPer1k: ${expected}`],
      );
    }
    const result = parseGatewayConfig(
      pricing(
        ', imageInputPer1k: 0.01, tiers: [{aboveInputTokens: 200000, imageInputPer1k: 0.02}]',
      ),
      options,
    );
    assert.ok(result.ok);
    assert.deepEqual(result.config.routes[0].costControl?.modelPricing['gpt-image-1'], {
      inputPer1k: 0.005,
      outputPer1k: 0.04,
      imageInputPer1k: 0.01,
      tiers: [{ aboveInputTokens: 200000, imageInputPer1k: 0.02 }],
    });
  });

  it('modelPricing.imageOutputPer1k is optional, a number >= 0, on the price and its tiers', () => {
    const pricing = (fields: string) =>
      `${ROUTE_HEAD}  costControl:\n    modelPricing:\n` +
      `      gpt-image-1.5: {inputPer1k: 0.005, outputPer1k: 0.01${fields}}\n`;
    const at =
      'gw.yaml:8: document 1 (AIGatewayRoute "r"): spec.costControl.modelPricing["gpt-image-1.5"]';
    const expected = 'expected US dollars per 1000 image output tokens (a number >= 0)';
    for (const bad of ['-0.1', '"dear"', '.nan', '.inf']) {
      assert.deepEqual(errorsOf(pricing(`, imageOutputPer1k: ${bad}`)), [
        `${at}.imageOutputPer1k: ${expected}`,
      ]);
      assert.deepEqual(
        errorsOf(pricing(`, tiers: [{aboveInputTokens: 200000, imageOutputPer1k: ${bad}}]`)),
        [`${at}.tiers[0].imageOutputPer1k: ${expected}`],
      );
    }
    const result = parseGatewayConfig(
      pricing(
        ', imageOutputPer1k: 0.032, tiers: [{aboveInputTokens: 200000, imageOutputPer1k: 0.064}]',
      ),
      options,
    );
    assert.ok(result.ok);
    assert.deepEqual(result.config.routes[0].costControl?.modelPricing['gpt-image-1.5'], {
      inputPer1k: 0.005,
      outputPer1k: 0.01,
      imageOutputPer1k: 0.032,
      tiers: [{ aboveInputTokens: 200000, imageOutputPer1k: 0.064 }],
    });
  });

  it('modelPricing.perMinute is optional, and a number >= 0 when given', () => {
    const pricing = (perMinute: string) =>
      `${ROUTE_HEAD}  costControl:\n    modelPricing:\n` +
      `      whisper-1: {inputPer1k: 0, outputPer1k: 0${perMinute}}\n`;
    for (const bad of ['-0.006', '"cheap"', '.nan', '.inf']) {
      assert.deepEqual(
        errorsOf(pricing(`, perMinute: ${bad}`)),
        [
          'gw.yaml:8: document 1 (AIGatewayRoute "r"): spec.costControl.modelPricing["whisper-1"].perMinute: ' +
            'expected US dollars per minute of audio (a number >= 0)',
        ],
        bad,
      );
    }
    const result = parseGatewayConfig(pricing(', perMinute: 0.006'), options);
    assert.ok(result.ok);
    assert.deepEqual(result.config.routes[0].costControl?.modelPricing['whisper-1'], {
      inputPer1k: 0,
      outputPer1k: 0,
      perMinute: 0.006,
    });
  });

  it('modelPricing.per1kCharacters and audioInputPer1k are numbers >= 0 when given', () => {
    const pricing = (rest: string) =>
      `${ROUTE_HEAD}  costControl:\n    modelPricing:\n` +
      `      tts: {inputPer1k: 0, outputPer1k: 0${rest}}\n`;
    for (const [field, unit] of [
      ['per1kCharacters', 'US dollars per 1000 characters spoken (a number >= 0)'],
      ['audioInputPer1k', 'US dollars per 1000 audio input tokens (a number >= 0)'],
    ]) {
      assert.deepEqual(errorsOf(pricing(`, ${field}: -1`)), [
        `gw.yaml:8: document 1 (AIGatewayRoute "r"): spec.costControl.modelPricing.tts.${field}: expected ${unit}`,
      ]);
    }
    const result = parseGatewayConfig(
      pricing(', per1kCharacters: 0.015, audioInputPer1k: 0.006'),
      options,
    );
    assert.ok(result.ok);
    assert.deepEqual(result.config.routes[0].costControl?.modelPricing.tts, {
      inputPer1k: 0,
      outputPer1k: 0,
      audioInputPer1k: 0.006,
      per1kCharacters: 0.015,
    });
  });

  it('modelPricing.per1kSearches prices rerank search units, a number >= 0', () => {
    const pricing = (rest: string) =>
      `${ROUTE_HEAD}  costControl:\n    modelPricing:\n` +
      `      rerank-v3.5: {inputPer1k: 0, outputPer1k: 0${rest}}\n`;
    const at =
      'gw.yaml:8: document 1 (AIGatewayRoute "r"): spec.costControl.modelPricing["rerank-v3.5"]';
    for (const bad of ['-2', '"two"', '.inf']) {
      assert.deepEqual(
        errorsOf(pricing(`, per1kSearches: ${bad}`)),
        [`${at}.per1kSearches: expected US dollars per 1000 search units (a number >= 0)`],
        bad,
      );
    }
    const result = parseGatewayConfig(pricing(', per1kSearches: 2'), options);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.errors.map((e) => e.format())));
    assert.deepEqual(result.config.routes[0].costControl?.modelPricing['rerank-v3.5'], {
      inputPer1k: 0,
      outputPer1k: 0,
      per1kSearches: 2,
    });
  });

  it("modelPricing.webSearchPer1k prices a server tool's web searches, a number >= 0", () => {
    const pricing = (rest: string) =>
      `${ROUTE_HEAD}  costControl:\n    modelPricing:\n` +
      `      claude-sonnet-4-5: {inputPer1k: 0.003, outputPer1k: 0.015${rest}}\n`;
    const at =
      'gw.yaml:8: document 1 (AIGatewayRoute "r"): spec.costControl.modelPricing["claude-sonnet-4-5"]';
    for (const bad of ['-10', '"ten"', '.inf', '.nan']) {
      assert.deepEqual(
        errorsOf(pricing(`, webSearchPer1k: ${bad}`)),
        [`${at}.webSearchPer1k: expected US dollars per 1000 web searches (a number >= 0)`],
        bad,
      );
    }
    const result = parseGatewayConfig(pricing(', webSearchPer1k: 8'), options);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.errors.map((e) => e.format())));
    assert.deepEqual(result.config.routes[0].costControl?.modelPricing['claude-sonnet-4-5'], {
      inputPer1k: 0.003,
      outputPer1k: 0.015,
      webSearchPer1k: 8,
    });
  });

  it('modelPricing.serviceTierFactors multiplies the token price by service tier', () => {
    const pricing = (rest: string) =>
      `${ROUTE_HEAD}  costControl:\n    modelPricing:\n` +
      `      gpt-5: {inputPer1k: 0.00125, outputPer1k: 0.01${rest}}\n`;
    const at = 'gw.yaml:8: document 1 (AIGatewayRoute "r"): spec.costControl.modelPricing["gpt-5"]';
    for (const bad of ['{priority: -2}', '{flex: "half"}', '[2]', '2']) {
      assert.deepEqual(
        errorsOf(pricing(`, serviceTierFactors: ${bad}`)),
        [
          `${at}.serviceTierFactors: expected a mapping of service tier to its token price multiplier (numbers >= 0)`,
        ],
        bad,
      );
    }
    const result = parseGatewayConfig(
      pricing(', serviceTierFactors: {priority: 2, flex: 0.5}'),
      options,
    );
    assert.ok(result.ok, JSON.stringify(!result.ok && result.errors.map((e) => e.format())));
    assert.deepEqual(result.config.routes[0].costControl?.modelPricing['gpt-5'], {
      inputPer1k: 0.00125,
      outputPer1k: 0.01,
      serviceTierFactors: { priority: 2, flex: 0.5 },
    });
  });

  it('modelPricing.perImage and perImageVariants price images, numbers >= 0', () => {
    const pricing = (rest: string) =>
      `${ROUTE_HEAD}  costControl:\n    modelPricing:\n` +
      `      dall-e-3: {inputPer1k: 0, outputPer1k: 0${rest}}\n`;
    const at =
      'gw.yaml:8: document 1 (AIGatewayRoute "r"): spec.costControl.modelPricing["dall-e-3"]';
    assert.deepEqual(errorsOf(pricing(', perImage: -0.04')), [
      `${at}.perImage: expected US dollars per image (a number >= 0)`,
    ]);
    for (const bad of ['{hd: -1}', '{hd: "dear"}', '[0.04]', '0.04']) {
      const errors = errorsOf(pricing(`, perImageVariants: ${bad}`));
      assert.equal(errors.length, 1, bad);
      assert.match(errors[0], /perImageVariants/, bad);
    }
    const result = parseGatewayConfig(
      pricing(
        ', perImage: 0.04, perImageVariants: {hd: 0.08, "hd/1792x1024": 0.12, 1024x1792: 0.08}',
      ),
      options,
    );
    assert.ok(result.ok, JSON.stringify(!result.ok && result.errors.map((e) => e.format())));
    assert.deepEqual(result.config.routes[0].costControl?.modelPricing['dall-e-3'], {
      inputPer1k: 0,
      outputPer1k: 0,
      perImage: 0.04,
      perImageVariants: { hd: 0.08, 'hd/1792x1024': 0.12, '1024x1792': 0.08 },
    });
  });

  it('a backend weight is a whole number >= 0, 1 when left out', () => {
    const backends = (weight: string) =>
      `${ROUTE_HEAD}  backends:\n` +
      `  - {name: a, provider: vllm, baseUrl: "http://a", model: m, priority: 0${weight}}\n` +
      `  - {name: b, provider: vllm, baseUrl: "http://b", model: m, priority: 0}\n`;
    for (const bad of ['-1', '1.5', '"heavy"']) {
      assert.deepEqual(
        errorsOf(backends(`, weight: ${bad}`)),
        [
          'gw.yaml:7: document 1 (AIGatewayRoute "r"): spec.backends[0].weight: ' +
            'expected an integer >= 0 (its share among backends of the same priority)',
        ],
        bad,
      );
    }
    const weights = (weight: string) => {
      const result = parseGatewayConfig(backends(weight), options);
      assert.ok(result.ok, weight);
      return result.config.routes[0].backends.map((b) => b.weight);
    };
    assert.deepEqual(weights(', weight: 3'), [3, 1]);
    assert.deepEqual(weights(', weight: 0'), [0, 1]);
    assert.deepEqual(weights(''), [1, 1]);
  });

  it('modelPricing.tiers: thresholds that climb, rates >= 0', () => {
    const pricing = (tiers: string) =>
      `${ROUTE_HEAD}  costControl:\n    modelPricing:\n` +
      `      gemini: {inputPer1k: 0.00125, outputPer1k: 0.01, tiers: ${tiers}}\n`;
    const at =
      'gw.yaml:8: document 1 (AIGatewayRoute "r"): spec.costControl.modelPricing.gemini.tiers';
    assert.deepEqual(errorsOf(pricing('[{aboveInputTokens: -1, inputPer1k: 0.0025}]')), [
      `${at}[0].aboveInputTokens: expected a number of prompt tokens (a whole number >= 0)`,
    ]);
    assert.deepEqual(errorsOf(pricing('[{inputPer1k: 0.0025}]')), [
      `${at}[0].aboveInputTokens: is required`,
    ]);
    assert.deepEqual(errorsOf(pricing('[{aboveInputTokens: 200000, outputPer1k: "dear"}]')), [
      `${at}[0].outputPer1k: expected US dollars per 1000 output tokens (a number >= 0)`,
    ]);
    assert.deepEqual(
      errorsOf(
        pricing(
          '[{aboveInputTokens: 200000, inputPer1k: 1}, {aboveInputTokens: 200000, inputPer1k: 2}]',
        ),
      ),
      [
        `${at}[1].aboveInputTokens: must be above the tier before it (200000): ` +
          'list tiers from the shortest prompt up',
      ],
    );
    assert.equal(errorsOf(pricing('{aboveInputTokens: 200000}')).length, 1, 'not a list');

    const result = parseGatewayConfig(
      pricing('[{aboveInputTokens: 200000, inputPer1k: 0.0025, outputPer1k: 0.015}]'),
      options,
    );
    assert.ok(result.ok);
    assert.deepEqual(result.config.routes[0].costControl?.modelPricing.gemini, {
      inputPer1k: 0.00125,
      outputPer1k: 0.01,
      tiers: [{ aboveInputTokens: 200000, inputPer1k: 0.0025, outputPer1k: 0.015 }],
    });
  });

  it('a block pattern that is not a regular expression', () => {
    const [line] = errorsOf(
      `${ROUTE_HEAD}  security:\n    promptValidation:\n      blockPatterns: ["(unclosed"]\n`,
    );
    assert.match(
      line,
      /spec\.security\.promptValidation\.blockPatterns: expected a valid regular expression/,
    );
  });
});

describe('inference', () => {
  const load = (backends: string) => {
    const result = parseGatewayConfig(`${ROUTE_HEAD}  backends:\n${backends}`, options);
    if (!result.ok) assert.fail(result.errors.map((e) => e.format()).join('\n'));
    return result;
  };

  it('provider from the model family, headers per provider', () => {
    const { config, inferences } = load(
      '  - {name: a, model: claude-3-haiku, auth: {apiKeyRef: {name: k}}}\n' +
        '  - {name: b, model: gemini-1.5-pro, auth: {apiKeyRef: {name: k}}}\n' +
        '  - {name: c, model: mixtral-8x7b}\n' +
        '  - {name: d, model: command-r}\n' +
        '  - {name: e, model: deepseek-chat}\n' +
        '  - {name: f, model: o3-mini}\n' +
        '  - {name: g, model: anthropic.claude-3-sonnet-20240229-v1:0}\n' +
        '  - {name: my-azure, model: gpt-4, baseUrl: "https://x.openai.azure.com", auth: {apiKeyRef: {name: k}}}\n',
    );
    const backends = config.routes[0].backends;
    assert.deepEqual(
      backends.map((b) => b.provider),
      ['anthropic', 'google-gemini', 'mistral', 'cohere', 'deepseek', 'openai', 'bedrock', 'azure'],
    );
    const header = (i: number) => {
      const auth = backends[i].auth;
      return auth.kind === 'apiKey' ? [auth.headerName, auth.headerPrefix] : auth.kind;
    };
    assert.deepEqual(header(0), ['x-api-key', '']);
    assert.deepEqual(header(1), ['x-goog-api-key', '']);
    assert.deepEqual(header(6), 'aws-sigv4');
    assert.deepEqual(header(7), ['api-key', '']);
    assert.ok(
      inferences.some((n) =>
        n.includes('provider anthropic inferred from the model "claude-3-haiku"'),
      ),
    );
  });

  it('backends are sorted by priority, stable for ties; timeouts parsed', () => {
    const { config } = load(
      '  - {name: openai-b, priority: 2, model: gpt-4}\n' +
        '  - {name: openai-a, priority: 1, model: gpt-4, requestTimeout: 2m, firstByteTimeout: 500ms}\n' +
        '  - {name: openai-c, priority: 1, model: gpt-4}\n',
    );
    const backends = config.routes[0].backends;
    assert.deepEqual(
      backends.map((b) => b.name),
      ['openai-a', 'openai-c', 'openai-b'],
    );
    assert.equal(backends[0].requestTimeoutMs, 120_000);
    assert.equal(backends[0].firstByteTimeoutMs, 500);
  });

  it('a wildcard backend resolves any fallback model, so no warning', () => {
    const result = parseGatewayConfig(
      `${ROUTE_HEAD}  backends:\n  - {name: openai}\n  retry:\n    fallbackOrder: [gpt-4, whatever]\n`,
      options,
    );
    assert.ok(result.ok);
    assert.ok(!result.warnings.some((w) => w.includes('fallbackOrder')));
  });
});
