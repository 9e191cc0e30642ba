import { defuseMentions, escapeMarkdown } from './markdown.js';

/** Formats one transcript line for the channel: `**Name**: text`, inert (no Markdown, no pings). */
export function formatLine(name: string, text: string, delayedFrom?: number): string {
  return `${formatName(name)}${delayedNote(delayedFrom)}: ${formatText(text)}`;
}

/** The speaker in bold, inert. */
export function formatName(name: string): string {
  return `**${escapeMarkdown(defuseMentions(name))}**`;
}

/** The spoken text, inert (what a webhook-mode line consists of, the name being the webhook's). */
export function formatText(text: string, delayedFrom?: number): string {
  return `${escapeMarkdown(defuseMentions(text.trim()))}${delayedNote(delayedFrom)}`;
}

/** What the plain-message fallback puts before each webhook-mode line (its length counts against the limit). */
export function namePrefix(name: string): string {
  return `${formatName(name)}: `;
}

/** Re-attaches the name to each line of webhook-mode content, for the plain-message fallback. */
export function withNamePrefix(name: string, content: string): string {
  const prefix = namePrefix(name);
  return content
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');
}

function delayedNote(delayedFrom: number | undefined): string {
  return delayedFrom === undefined ? '' : ` _(said at ${new Date(delayedFrom).toISOString().slice(11, 19)} UTC, delayed)_`;
}
