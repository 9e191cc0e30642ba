/** Discord's limit on a webhook message's username (docs: resources/webhook, "Execute Webhook"). */
export const MAX_WEBHOOK_USERNAME = 80;

/** Used when nothing of a name is left (an empty or all-whitespace display name). */
const FALLBACK_USERNAME = 'Speaker';

/*
 * Discord refuses (400, code 50035) a webhook username that contains "discord" or "clyde" in any case, is
 * longer than 80 characters, or is empty after trimming; "everyone" and "here" are refused as whole names
 * (docs: resources/webhook "Webhook names", resources/user "Usernames and Nicknames"). Rather than lose the
 * speaker's name, a letter of each forbidden word is swapped for its Cyrillic look-alike, which reads the same.
 */
const LOOKALIKE: Readonly<Record<string, string>> = { e: '\u0435', E: '\u0415', o: '\u043e', O: '\u041e' };
const FORBIDDEN_WORDS = /(disc)([oO])(rd)|(clyd)([eE])/gi;
const FORBIDDEN_NAMES = /^(?:everyone|here)$/i;

/** A webhook username Discord accepts that reads as `name` (see the rules above). */
export function webhookUsername(name: string): string {
  let out = name.replace(/\s+/g, ' ').trim();
  out = out.replace(FORBIDDEN_WORDS, (_m, a?: string, o?: string, b?: string, c?: string, e?: string) =>
    a !== undefined ? `${a}${LOOKALIKE[o!]}${b}` : `${c}${LOOKALIKE[e!]}`,
  );
  if (FORBIDDEN_NAMES.test(out)) out = out.replace(/e/i, (e) => LOOKALIKE[e]!);
  out = truncateUtf16(out, MAX_WEBHOOK_USERNAME).trim();
  return out === '' ? FALLBACK_USERNAME : out;
}

/** At most `max` UTF-16 units, never splitting a surrogate pair (an emoji) in half. */
function truncateUtf16(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}
