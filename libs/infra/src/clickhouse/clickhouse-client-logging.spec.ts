// The ClickHouse client logs every failed request itself; by default as multi-line text on
// stderr, which a JSON log pipeline cannot read. With a logger given, those lines are JSON
// lines of the service's logger instead, and nothing reaches stderr.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { freeLoopbackPort } from '@aigw/testing';
import { createClickHouseClient } from './clickhouse-client';

it('a failed request is one warning of the given logger, naming the operation and error, and nothing on stderr', async () => {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const sink = {
    warn: (message: string, fields?: Record<string, unknown>) =>
      lines.push({ level: 'warn', message, fields }),
    debug: (message: string, fields?: Record<string, unknown>) =>
      lines.push({ level: 'debug', message, fields }),
  };
  const client = createClickHouseClient({
    url: `http://user:secret-password@127.0.0.1:${await freeLoopbackPort()}`,
    logger: sink,
  });
  const stderr: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  };
  try {
    await assert.rejects(client.query({ query: 'SELECT 1' }), /ECONNREFUSED/);
  } finally {
    process.stderr.write = write;
    await client.close();
  }
  assert.deepEqual(stderr, []);
  const warnings = lines.filter((l) => l.level === 'warn');
  assert.equal(warnings.length, 1, JSON.stringify(lines));
  assert.match(warnings[0].message, /^clickhouse client: /);
  assert.equal(warnings[0].fields?.operation, 'Query');
  assert.match(String(warnings[0].fields?.error), /ECONNREFUSED/);
  assert.ok(!JSON.stringify(lines).includes('secret-password'));
});
