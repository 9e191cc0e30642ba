import { describe, expect, it } from 'vitest';
import { MAX_WEBHOOK_USERNAME, webhookUsername } from '../../src/voice/webhookUsername.js';

/** The simulator's (and Discord's) refusal rule, restated independently of the implementation. */
const refused = (name: string): boolean =>
  name.trim() === '' || name.length > MAX_WEBHOOK_USERNAME || /discord|clyde/i.test(name) || /^(everyone|here)$/i.test(name);

describe('webhookUsername', () => {
  it.each([
    'Discord Dan',
    'DISCORD',
    'my discord bot',
    'Clyde',
    'cLyDe the CLYDE',
    'xdiscordclydex',
    'everyone',
    'HERE',
    '',
    '   ',
    'x'.repeat(81),
    `${'a'.repeat(79)}😀`,
    '  Dan \n\t the  man ',
  ])('turns %j into a name Discord accepts', (name) => {
    const out = webhookUsername(name);
    expect(refused(out), out).toBe(false);
    // Never a lone surrogate (a half emoji renders as garbage).
    expect(out).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('keeps the name readable: only one letter of a forbidden word changes, case and the rest stay', () => {
    expect(webhookUsername('Discord Dan')).toBe('Disc\u043erd Dan');
    expect(webhookUsername('CLYDE')).toBe('CLYD\u0415');
    expect(webhookUsername('Ally')).toBe('Ally');
    expect(webhookUsername('  Dan \n\t the  man ')).toBe('Dan the man');
    expect(webhookUsername('')).toBe('Speaker');
    expect(webhookUsername('x'.repeat(100))).toBe('x'.repeat(80));
    expect(webhookUsername(`${'a'.repeat(79)}😀`)).toBe('a'.repeat(79));
  });
});
