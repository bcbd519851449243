// Multipart forms (audio, image edits): a valid one, and seeded ways to break it.
import type { Attempt } from './bad-requests';
import type { Rng } from './seeded-json';

export interface FormPart {
  readonly name: string;
  readonly value: string | Buffer;
  readonly filename?: string;
  readonly type?: string;
}

/** A short mono WAV (16-bit, 8 kHz, silence) and a 1x1 PNG. */
export const WAV = (() => {
  const samples = 800;
  const file = Buffer.alloc(44 + samples * 2);
  file.write('RIFF', 0);
  file.writeUInt32LE(36 + samples * 2, 4);
  file.write('WAVEfmt ', 8);
  file.writeUInt32LE(16, 16);
  file.writeUInt16LE(1, 20);
  file.writeUInt16LE(1, 22);
  file.writeUInt32LE(8000, 24);
  file.writeUInt32LE(16000, 28);
  file.writeUInt16LE(2, 32);
  file.writeUInt16LE(16, 34);
  file.write('data', 36);
  file.writeUInt32LE(samples * 2, 40);
  return file;
})();
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

export function formBody(parts: readonly FormPart[], boundary: string): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const file = part.filename === undefined ? '' : `; filename="${part.filename}"`;
    const type = part.type === undefined ? '' : `\r\nContent-Type: ${part.type}`;
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${file}${type}\r\n\r\n`,
      ),
      typeof part.value === 'string' ? Buffer.from(part.value) : part.value,
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

export function multipartAttempt(
  path: string,
  parts: readonly FormPart[],
  mutation: string,
  mustRefuse: boolean,
  boundary = 'fuzzBoundary42',
): Attempt {
  return {
    method: 'POST',
    path,
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: formBody(parts, boundary),
    mutation,
    mustRefuse,
  };
}

export function mutateForm(path: string, parts: readonly FormPart[], rng: Rng): Attempt {
  const required = ['model', 'file', 'image', 'prompt'];
  const at = rng.int(parts.length);
  const part = parts[at];
  const others = parts.filter((_, i) => i !== at);
  switch (rng.int(12)) {
    case 0:
      return multipartAttempt(path, others, `without ${part.name}`, required.includes(part.name));
    case 1: {
      const value = rng.pick(['', 'x'.repeat(300_000), '\ud800', '{"a":1}', '-1', 'NaN']);
      const changed = [...others, { ...part, value, filename: undefined, type: undefined }];
      return multipartAttempt(
        path,
        changed,
        `${part.name} = ${value.slice(0, 20)}`,
        part.name === 'file' || part.name === 'image' || (part.name === 'model' && value === ''),
      );
    }
    case 2: {
      const filename = rng.pick(['', '../../etc/passwd', 'a"b.wav', 'é😀.wav', 'x'.repeat(5_000)]);
      return multipartAttempt(
        path,
        [...others, { ...part, filename }],
        `${part.name} filename ${filename.slice(0, 20)}`,
        false,
      );
    }
    case 3: {
      const whole = multipartAttempt(path, parts, '', false).body as Buffer;
      const cut = rng.int(whole.length - 8);
      return {
        ...multipartAttempt(path, parts, '', false),
        body: whole.subarray(0, cut),
        mutation: `truncated at ${cut}`,
        mustRefuse: true,
      };
    }
    case 4:
      return {
        ...multipartAttempt(path, parts, '', false),
        contentType: 'multipart/form-data',
        mutation: 'no boundary',
        mustRefuse: true,
      };
    case 5:
      return {
        ...multipartAttempt(path, parts, '', false),
        contentType: 'multipart/form-data; boundary=other',
        mutation: 'wrong boundary',
        mustRefuse: true,
      };
    case 6:
      return {
        ...multipartAttempt(path, parts, '', false),
        body: rng.bytes(200),
        mutation: 'random bytes',
        mustRefuse: true,
      };
    case 7:
      return multipartAttempt(path, [...parts, part], `${part.name} twice`, false);
    case 8:
      return multipartAttempt(
        path,
        [
          ...parts,
          {
            name: rng.pick(['', 'é', 'stream', 'n', 'x'.repeat(1_000)]),
            value: rng.pick(['true', '5', '']),
          },
        ],
        'an extra field',
        false,
      );
    case 9:
      return {
        ...multipartAttempt(path, parts, '', false),
        contentType: 'application/json',
        mutation: 'a form sent as JSON',
        mustRefuse: true,
      };
    case 10:
      return {
        ...multipartAttempt(path, [], '', false),
        mutation: 'an empty form',
        mustRefuse: true,
      };
    default: {
      const value =
        part.name === 'file' || part.name === 'image' ? rng.bytes(rng.int(2_000)) : part.value;
      return multipartAttempt(
        path,
        [...others, { ...part, value }],
        `${part.name} of random bytes`,
        false,
      );
    }
  }
}
