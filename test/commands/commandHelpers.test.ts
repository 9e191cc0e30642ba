import { describe, expect, it } from 'vitest';
import { effectiveLanguage, parseLanguage } from '../../src/commands/languageCode.js';
import { duration } from '../../src/commands/statusCommand.js';
import { COMMANDS } from '../../src/commands/definitions.js';

describe('language codes', () => {
  it('accepts ISO codes and auto, case-insensitively, and nothing else', () => {
    expect(parseLanguage(' DE ')).toEqual({ ok: true, language: 'de' });
    expect(parseLanguage('auto')).toEqual({ ok: true, language: 'auto' });
    expect(parseLanguage('yue')).toEqual({ ok: true, language: 'yue' });
    for (const bad of ['', 'english', 'en-US', 'd3']) expect(parseLanguage(bad)).toEqual({ ok: false });
  });

  it('takes the first choice made (option, guild, config); auto means none', () => {
    expect(effectiveLanguage(undefined, 'de', 'en')).toBe('de');
    expect(effectiveLanguage('auto', 'de', 'en')).toBeUndefined();
    expect(effectiveLanguage(undefined, undefined, 'en')).toBe('en');
    expect(effectiveLanguage(undefined, 'auto', 'en')).toBeUndefined();
  });
});

describe('/status duration', () => {
  it('reads as seconds, minutes or hours', () => {
    expect(duration(12_400)).toBe('12 s');
    expect(duration(185_000)).toBe('3 min 05 s');
    expect(duration(3_720_000)).toBe('1 h 02 min');
  });
});

describe('COMMANDS', () => {
  it('is the one list: every command of the issue, guild-only, with unique names', () => {
    const names = COMMANDS.map((c) => c.name);
    expect(names).toEqual(['join', 'leave', 'status', 'optout', 'optin', 'language', 'prompt']);
    for (const c of COMMANDS) expect(c.dm_permission).toBe(false);
  });
});
