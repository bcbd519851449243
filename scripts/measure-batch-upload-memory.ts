// Measures the all-in-one gateway's peak memory growth while it takes one large batch
// input file (`POST /v1/files`, purpose=batch) and sends it to a fake OpenAI backend.
//   node_modules/.bin/node --require @swc-node/register scripts/measure-batch-upload-memory.ts [MB] [order]
// MB: the file's size (50). order: `fields-first` (purpose before the file, as curl -F
// and the Python SDK send it) or `file-first` (as the Node SDK sends `{ file, purpose }`).
// The gateway runs as its own process: its resident set before the upload, and its peak
// (VmHWM, reset just before the upload) are read from /proc.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAKE_BATCH_MODEL, FakeBatchBackend } from '@aigw/testing/fake-provider';
import { startApp } from '@aigw/testing/processes';

const MB = Number(process.argv[2] ?? 50);
const ORDER = process.argv[3] === 'file-first' ? 'file-first' : 'fields-first';
const VIRTUAL = 'gpt-batch';

/** One batch line of about 1 KiB. */
const line = (id: number) =>
  JSON.stringify({
    custom_id: `r${id}`,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: VIRTUAL, messages: [{ role: 'user', content: 'x'.repeat(900) }] },
  });

/** The gateway process (our child running apps/gateway/src/main.ts). */
function gatewayPid(): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && cmdline.includes('apps/gateway/src/main.ts')) return +entry;
    } catch {
      // a process that ended meanwhile
    }
  }
  throw new Error('the gateway process was not found');
}

function kib(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]);
}

async function main(): Promise<void> {
  const backend = new FakeBatchBackend();
  await backend.start();
  const dir = mkdtempSync(join(tmpdir(), 'aigw-upload-memory-'));
  writeFileSync(
    join(dir, 'config.yaml'),
    `kind: AIGatewayRoute
metadata: {name: batches}
spec:
  backends:
  - {name: openai-batch, provider: openai, baseUrl: "${backend.baseUrl}", model: ${FAKE_BATCH_MODEL}, modelNameOverride: ${VIRTUAL}, auth: {apiKeyRef: {name: openai-key}}}
  userIdentification: {header: x-user-id}
`,
  );
  const gateway = await startApp('gateway', {
    AI_GATEWAY_CONFIG: join(dir, 'config.yaml'),
    AI_GATEWAY_DATA_DIR: join(dir, 'data'),
    AI_GATEWAY_SECRET_OPENAI_KEY_APIKEY: 'sk-backend',
    AI_GATEWAY_MAX_BODY_BYTES: String((MB + 16) * 1024 * 1024),
  });
  try {
    const lines: string[] = [];
    let size = 0;
    for (let id = 0; size < MB * 1024 * 1024; id++) {
      const text = line(id);
      lines.push(text);
      size += text.length + 1;
    }
    const file = new Blob([lines.join('\n') + '\n'], { type: 'application/jsonl' });
    lines.length = 0;
    const form = new FormData();
    if (ORDER === 'fields-first') form.append('purpose', 'batch');
    form.append('file', file, 'big.jsonl');
    if (ORDER === 'file-first') form.append('purpose', 'batch');
    const pid = gatewayPid();
    // A warm-up upload, so start-up's lazy loading is not counted.
    const small = new FormData();
    small.append('purpose', 'batch');
    small.append('file', new Blob([`${line(0)}\n`]), 'small.jsonl');
    const upload = (body: FormData) =>
      fetch(`${gateway.baseUrl}/v1/files`, {
        method: 'POST',
        headers: { 'x-user-id': 'measure', 'x-ai-gateway-model': VIRTUAL },
        body,
      });
    if (!(await upload(small)).ok) throw new Error('the warm-up upload failed');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rssBefore = kib(pid, 'VmRSS');
    // Resets the peak (VmHWM) to the current resident set.
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const started = Date.now();
    const response = await upload(form);
    const answer = await response.text();
    const elapsed = Date.now() - started;
    if (!response.ok) throw new Error(`upload failed: ${response.status} ${answer}`);
    const peak = kib(pid, 'VmHWM');
    const held = [...backend.files.values()].at(-1)!;
    console.log(
      JSON.stringify({
        fileMiB: +(file.size / 1024 / 1024).toFixed(1),
        order: ORDER,
        rssBeforeMiB: +(rssBefore / 1024).toFixed(1),
        peakRssMiB: +(peak / 1024).toFixed(1),
        peakGrowthMiB: +((peak - rssBefore) / 1024).toFixed(1),
        seconds: elapsed / 1000,
        upstreamFileMiB: +(Buffer.byteLength(held.content) / 1024 / 1024).toFixed(1),
      }),
    );
  } finally {
    await gateway.stop();
    await backend.stop();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
