import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SettingsStore, settingsFileIn } from '../../src/settings/SettingsStore.js';
import { createLogger } from '../../src/util/logger.js';

const logger = createLogger({ level: 'silent' });
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinyscribe-settings-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SettingsStore', () => {
  it('starts empty without a file, and a reopened store sees every change', async () => {
    const file = settingsFileIn(tempDir());
    const store = await SettingsStore.open({ file, logger });
    expect(store.guild('1')).toEqual({});
    expect(store.isOptedOut('42')).toBe(false);
    await store.updateGuild('1', { language: 'de' });
    await store.updateGuild('1', { prompt: 'Kubernetes, tinyscribe' });
    await store.updateGuild('2', { language: 'auto' });
    await store.setOptedOut('42', true);
    await store.setOptedOut('43', true);
    await store.setOptedOut('43', false);

    const again = await SettingsStore.open({ file, logger });
    expect(again.guild('1')).toEqual({ language: 'de', prompt: 'Kubernetes, tinyscribe' });
    expect(again.guild('2')).toEqual({ language: 'auto' });
    expect(again.isOptedOut('42')).toBe(true);
    expect(again.isOptedOut('43')).toBe(false);
  });

  it('removes a key given as undefined, and forgets a guild with no settings left', async () => {
    const file = settingsFileIn(tempDir());
    const store = await SettingsStore.open({ file, logger });
    await store.updateGuild('1', { language: 'fr', prompt: 'x' });
    await store.updateGuild('1', { prompt: undefined });
    expect(store.guild('1')).toEqual({ language: 'fr' });
    await store.updateGuild('1', { language: undefined });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, guilds: {}, optedOut: [] });
  });

  it('writes through a temp file and leaves none behind; concurrent changes all land', async () => {
    const dir = tempDir();
    const file = settingsFileIn(dir);
    const store = await SettingsStore.open({ file, logger });
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.setOptedOut(String(100 + i), true)));
    expect(existsSync(`${file}.tmp`)).toBe(false);
    const again = await SettingsStore.open({ file, logger });
    for (let i = 0; i < 20; i++) expect(again.isOptedOut(String(100 + i))).toBe(true);
  });

  it('ignores a torn temp file from a crash and refuses a corrupt settings file with a code', async () => {
    const dir = tempDir();
    const file = settingsFileIn(dir);
    writeFileSync(file, JSON.stringify({ version: 1, guilds: { '7': { language: 'es' } }, optedOut: ['9'] }));
    writeFileSync(`${file}.tmp`, '{"version":1,"gui');
    const store = await SettingsStore.open({ file, logger });
    expect(store.guild('7')).toEqual({ language: 'es' });
    expect(store.isOptedOut('9')).toBe(true);

    writeFileSync(file, '{"version":1,"gui');
    await expect(SettingsStore.open({ file, logger })).rejects.toMatchObject({ code: 'SETTINGS_CORRUPT' });
    writeFileSync(file, JSON.stringify({ version: 1, guilds: {}, optedOut: [5] }));
    await expect(SettingsStore.open({ file, logger })).rejects.toMatchObject({ code: 'SETTINGS_CORRUPT' });
  });
});
