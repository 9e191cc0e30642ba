import { defuseMentions, escapeMarkdown } from './markdown.js';

/** Formats one transcript line for the channel: `**Name**: text`, inert (no Markdown, no pings). */
export function formatLine(name: string, text: string, delayedFrom?: number): string {
  const who = `**${escapeMarkdown(defuseMentions(name))}**`;
  const when = delayedFrom === undefined ? '' : ` _(said at ${new Date(delayedFrom).toISOString().slice(11, 19)} UTC, delayed)_`;
  return `${who}${when}: ${escapeMarkdown(defuseMentions(text.trim()))}`;
}
