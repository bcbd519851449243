// Measures the all-in-one gateway's peak memory growth while it takes one large batch
// input file (`POST /v1/files`, purpose=batch) and sends it to a fake OpenAI backend.
//   node_modules/.bin/node --require @swc-node/register scripts/measure-batch-upload-memory.ts [MB] [order] [split]
// MB: the file's size (50). order: `fields-first` (purpose before the file, as curl -F
// and the Python SDK send it) or `file-first` (as the Node SDK sends `{ file, purpose }`
// with a Blob). `split`: through the split deployment (ingress, router, provider-adapter)
// instead, each measured. Each service runs as its own process: its resident set before
// the upload, and its peak (VmHWM, reset just before the upload) are read from /proc.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import {
  FAKE_BATCH_ROUTE_MODEL as VIRTUAL,
  FakeBatchBackend,
  startOnFakeBatchBackend,
} from '@aigw/testing/fake-provider';

const MB = Number(process.argv[2] ?? 50);
const ORDER = process.argv[3] === 'file-first' ? 'file-first' : 'fields-first';
const SPLIT = process.argv[4] === 'split';

/** One batch line of about 1 KiB. */
const line = (id: number) =>
  JSON.stringify({
    custom_id: `r${id}`,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: VIRTUAL, messages: [{ role: 'user', content: 'x'.repeat(900) }] },
  });

/** Our child process running apps/{app}/src/main.ts. */
function appPid(app: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && cmdline.includes(`apps/${app}/src/main.ts`)) return +entry;
    } catch {
      // a process that ended meanwhile
    }
  }
  throw new Error(`the ${app} process was not found`);
}

function kib(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]);
}

async function main(): Promise<void> {
  const backend = new FakeBatchBackend();
  await backend.start();
  // Room for the file and its form: purpose first it streams within the file limit; a
  // file sent first is held whole, within the body limit.
  const limit = String((MB + 16) * 1024 * 1024);
  const deployment = await startOnFakeBatchBackend(backend, SPLIT ? 'split' : 'all-in-one', {
    AI_GATEWAY_MAX_FILE_BYTES: limit,
    ...(ORDER === 'file-first' ? { AI_GATEWAY_MAX_BODY_BYTES: limit } : {}),
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
    const pids = deployment.apps.map((name) => ({ name, pid: appPid(name) }));
    // A warm-up upload, so start-up's lazy loading is not counted.
    const small = new FormData();
    small.append('purpose', 'batch');
    small.append('file', new Blob([`${line(0)}\n`]), 'small.jsonl');
    const upload = (body: FormData) =>
      fetch(`${deployment.edge.baseUrl}/v1/files`, {
        method: 'POST',
        headers: { 'x-user-id': 'measure', 'x-ai-gateway-model': VIRTUAL },
        body,
      });
    if (!(await upload(small)).ok) throw new Error('the warm-up upload failed');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rssBefore = pids.map(({ pid }) => kib(pid, 'VmRSS'));
    // Resets each peak (VmHWM) to the current resident set.
    for (const { pid } of pids) writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const started = Date.now();
    const response = await upload(form);
    const answer = await response.text();
    const elapsed = Date.now() - started;
    if (!response.ok) throw new Error(`upload failed: ${response.status} ${answer}`);
    const held = [...backend.files.values()].at(-1)!;
    const mib = (value: number) => +(value / 1024).toFixed(1);
    console.log(
      JSON.stringify({
        fileMiB: +(file.size / 1024 / 1024).toFixed(1),
        order: ORDER,
        seconds: elapsed / 1000,
        upstreamFileMiB: +(Buffer.byteLength(held.content) / 1024 / 1024).toFixed(1),
        ...Object.fromEntries(
          pids.map(({ name, pid }, at) => {
            const peak = kib(pid, 'VmHWM');
            return [
              name,
              {
                rssBeforeMiB: mib(rssBefore[at]),
                peakRssMiB: mib(peak),
                peakGrowthMiB: mib(peak - rssBefore[at]),
              },
            ];
          }),
        ),
      }),
    );
  } finally {
    await deployment.stop();
    await backend.stop();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
