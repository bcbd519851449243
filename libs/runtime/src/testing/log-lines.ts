import { mock } from 'node:test';

/** The logger's JSON lines written while `run` runs; other output passes through. */
export async function logLines<T>(run: () => Promise<T>): Promise<{ result: T; lines: unknown[] }> {
  const lines: unknown[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const spy = mock.method(process.stdout, 'write', (chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.startsWith('{"')) {
      lines.push(JSON.parse(chunk));
      return true;
    }
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  });
  try {
    return { result: await run(), lines };
  } finally {
    spy.mock.restore();
  }
}
