import { createHash } from 'node:crypto';

// Anthropic's `metadata.user_id` is to be an opaque id (a uuid, a hash), and Anthropic
// refuses the whole call when it looks like an email address ("user_id appears to contain
// an email address", a 400) and asks for no phone numbers either. OpenAI's `user`, which
// becomes it, is often the end user's email, and OpenAI takes that: a request that works
// on OpenAI failed on Claude over a field the client never named. Such an id goes as its
// SHA-256 instead, the same for every call of that user, so Anthropic still tells users
// apart for abuse detection and never sees the address.

const EMAIL_LIKE = /\S@\S/;
/** Digits with the separators phone numbers are written with, 7 to 15 of them (E.164). */
const PHONE_LIKE = /^\+?[\d\s().-]+$/;

function looksLikePhoneNumber(id: string): boolean {
  if (!PHONE_LIKE.test(id)) return false;
  const digits = id.replace(/\D/g, '').length;
  return digits >= 7 && digits <= 15;
}

/** The `metadata.user_id` to send for the client's user id: as given, unless it identifies. */
export function claudeUserId(user: string): string {
  if (!EMAIL_LIKE.test(user) && !looksLikePhoneNumber(user)) return user;
  return createHash('sha256').update(user).digest('hex');
}
