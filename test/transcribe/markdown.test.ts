import { describe, expect, it } from 'vitest';
import { defuseMentions, escapeMarkdown } from '../../src/transcribe/markdown.js';

/** Characters that start or end Discord Markdown (bold, italics, strike, code, quotes, headings, lists, links, spoilers). */
const SPECIAL = new Set(['*', '_', '~', '`', '|', '>', '#', '-', '[', ']', '(', ')', '\\']);

/** What Discord shows for escaped text: every backslash-escaped character stands for itself. */
function unescape(text: string): string {
  return text.replace(/\\(.)/gs, '$1');
}

/** Special characters that are not preceded by an escaping backslash, i.e. ones Discord would interpret. */
function liveSpecials(text: string): string[] {
  const live: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\') {
      i++; // the next character is escaped, whatever it is
      continue;
    }
    if (SPECIAL.has(ch)) live.push(ch);
  }
  return live;
}

const ZWSP = '\u200b';

describe('escapeMarkdown', () => {
  const sample = '**bold** _x_ ~~s~~ `code` > quote # h - list 1. item [a](b) ||spoiler||';

  it('leaves no formatting character live on one line', () => {
    const escaped = escapeMarkdown(sample);
    expect(liveSpecials(escaped)).toEqual([]);
    expect(unescape(escaped)).toBe(sample);
    expect(escaped).toBe(
      '\\*\\*bold\\*\\* \\_x\\_ \\~\\~s\\~\\~ \\`code\\` \\> quote \\# h \\- list 1. item \\[a\\]\\(b\\) \\|\\|spoiler\\|\\|',
    );
  });

  it('defuses block syntax at the start of every line', () => {
    const text = ['> quote', '>>> block quote', '# heading', '## smaller', '-# subtext', '- item', '* item', '1. first', '  12. indented', '```js', 'code', '```'].join('\n');
    const escaped = escapeMarkdown(text);
    expect(liveSpecials(escaped)).toEqual([]);
    expect(unescape(escaped)).toBe(text);
    const lines = escaped.split('\n');
    expect(lines).toHaveLength(12);
    // No line may start with a block marker that is still live.
    for (const line of lines) expect(line).not.toMatch(/^\s*(>|#|-|\*|\d+\.\s|```)/);
    expect(lines[7]).toBe('1\\. first');
    expect(lines[8]).toBe('  12\\. indented');
  });

  it('escapes an existing backslash so it cannot escape our escapes', () => {
    const text = 'a \\*b\\* c';
    const escaped = escapeMarkdown(text);
    expect(liveSpecials(escaped)).toEqual([]);
    expect(unescape(escaped)).toBe(text);
  });

  it('leaves ordinary speech alone', () => {
    const text = "Okay, so we meet at 5 pm. Isn't that right? Yes: 3.5 kg, 100% sure!";
    expect(escapeMarkdown(text)).toBe(text);
  });

  it('does not touch a number followed by a dot mid-line', () => {
    expect(escapeMarkdown('version 2. then 3.')).toBe('version 2. then 3.');
  });
});

describe('defuseMentions', () => {
  it.each([
    ['@everyone', `@${ZWSP}everyone`],
    ['@here', `@${ZWSP}here`],
    ['hi @Everyone and @HERE', `hi @${ZWSP}Everyone and @${ZWSP}HERE`],
    ['<@123456789012345678>', `<@${ZWSP}123456789012345678>`],
    ['<@!123456789012345678>', `<@!${ZWSP}123456789012345678>`],
    ['<@&123456789012345678>', `<@&${ZWSP}123456789012345678>`],
    ['<#123456789012345678>', `<#${ZWSP}123456789012345678>`],
  ])('breaks %s', (input, expected) => {
    const out = defuseMentions(input);
    expect(out).toBe(expected);
    // Still readable: removing the invisible space gives back what was said.
    expect(out.replaceAll(ZWSP, '')).toBe(input);
    // None of Discord's mention patterns match any more.
    expect(out).not.toMatch(/@(everyone|here)/i);
    expect(out).not.toMatch(/<(@!?|@&|#)\d+>/);
  });

  it('breaks every mention in a longer text and keeps the rest', () => {
    const text = 'ping <@1> and <@&2> in <#3>, also @everyone@here; mail me at bob@example.com';
    const out = defuseMentions(text);
    expect(out).not.toMatch(/<(@!?|@&|#)\d+>/);
    expect(out).not.toMatch(/@(everyone|here)/i);
    expect(out.replaceAll(ZWSP, '')).toBe(text);
    expect(out).toContain('bob@example.com');
  });

  it('survives being combined with escapeMarkdown in either order', () => {
    const text = '@everyone look at <#123> and <@456> **now**';
    for (const out of [defuseMentions(escapeMarkdown(text)), escapeMarkdown(defuseMentions(text))]) {
      expect(out).not.toMatch(/@(everyone|here)/i);
      expect(out).not.toMatch(/<(@!?|@&|#)\d+>/);
      expect(liveSpecials(out)).toEqual([]);
      expect(unescape(out).replaceAll(ZWSP, '')).toBe(text);
    }
  });
});
