import { DataPlaneError, DataPlaneErrorCode } from '@aigw/contracts/data-plane';
import { LineSplitter, MAX_BATCH_LINE_BYTES } from './jsonl-lines';

/** A batch input file's bytes in, each line checked and rewritten out, one line in memory. */
export async function* rewrittenBatchInput(
  content: AsyncIterable<Buffer>,
  rewrite: (content: Buffer, ending: string) => Buffer[],
  onEnd: () => void,
  maxLineBytes = MAX_BATCH_LINE_BYTES,
): AsyncGenerator<Buffer> {
  // Lines cut so far: a line too long is the next one, named as a bad line is.
  let lines = 0;
  const splitter = new LineSplitter(maxLineBytes, () => uploadLineTooLong(lines + 1, maxLineBytes));
  let out: Buffer[] = [];
  const each = (line: Buffer, ending: string) => {
    lines++;
    out.push(...rewrite(line, ending));
  };
  for await (const chunk of content) {
    splitter.push(chunk, each);
    if (out.length > 0) yield Buffer.concat(out);
    out = [];
  }
  splitter.end(each);
  if (out.length > 0) yield Buffer.concat(out);
  onEnd();
}

function uploadLineTooLong(line: number, maxLineBytes: number): DataPlaneError {
  return new DataPlaneError(
    DataPlaneErrorCode.InvalidRequest,
    `Line ${line} of the batch input file is longer than ${maxLineBytes} bytes, the most the gateway reads as one line`,
    { param: 'file' },
  );
}
