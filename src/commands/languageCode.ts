/** What a /language or /join `language` value means: a code, auto-detection, or not a language. */
export type ParsedLanguage = { ok: true; language: string | 'auto' } | { ok: false };

const LANGUAGE = /^[a-z]{2,3}$/;

/** Validates an ISO-639-1 (or -3) code, or "auto". */
export function parseLanguage(value: string): ParsedLanguage {
  const code = value.trim().toLowerCase();
  if (code === 'auto' || LANGUAGE.test(code)) return { ok: true, language: code };
  return { ok: false };
}

/** The language sent to the API: a setting of "auto" means none (the API detects it). */
export function effectiveLanguage(...choices: (string | undefined)[]): string | undefined {
  const first = choices.find((c) => c !== undefined);
  return first === 'auto' ? undefined : first;
}
