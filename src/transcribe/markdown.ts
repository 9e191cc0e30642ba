/** Escapes Discord Markdown so a transcript is shown literally (a spoken "*" or "_" formats nothing). */
export function escapeMarkdown(text: string): string {
  return text.replace(/([\\*_~`|>#\-\[\]()])/g, '\\$1').replace(/^(\s*)(\d+)\./gm, '$1$2\\.');
}

/** Defuses mass mentions and user/role/channel mention syntax even if allowed_mentions were ignored. */
export function defuseMentions(text: string): string {
  // A zero-width space after "@" keeps the text readable and breaks the ping.
  return text.replace(/@(everyone|here)/gi, '@\u200b$1').replace(/<([@#&!]+)(\d+)>/g, '<$1\u200b$2>');
}
