/**
 * The media type of an inline image as the backend should be told it. Anthropic refuses an
 * image whose declared type its bytes contradict (a JPEG sent as `data:image/png`) and any
 * spelling but its four (`image/jpg`), and Gemini likewise; OpenAI takes both, so clients
 * send them. The bytes decide where they are one of the four common formats, else the
 * client's label stands (`image/jpg` spelled `image/jpeg`), and the backend judges it.
 */
export function imageMediaType(declared: string, base64: string): string {
  return sniffedImageType(base64) ?? (declared === 'image/jpg' ? 'image/jpeg' : declared);
}

// The first 12 bytes (16 base64 characters) hold each format's signature.
const SIGNATURE_BASE64_CHARS = 16;

function sniffedImageType(base64: string): string | undefined {
  const head = Buffer.from(base64.slice(0, SIGNATURE_BASE64_CHARS), 'base64');
  if (head.length < 12) return undefined;
  if (head[0] === 0x89 && head.toString('latin1', 1, 4) === 'PNG') return 'image/png';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'image/jpeg';
  if (head.toString('latin1', 0, 4) === 'GIF8') return 'image/gif';
  if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') {
    return 'image/webp';
  }
  return undefined;
}
