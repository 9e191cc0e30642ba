import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PermissionFlagsBits } from '@discordjs/core';
import { describe, expect, it } from 'vitest';
import { POST_NEEDS, VOICE_NEEDS } from '../../src/commands/channelPermissions.js';
import { COMMANDS } from '../../src/commands/definitions.js';
import { loadConfig } from '../../src/config/Config.js';
import { projectRootOf } from './projectRoot.js';

const root = projectRootOf(import.meta.dirname);
const guide = readFileSync(join(root, 'docs/deploy.md'), 'utf8');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** Every environment variable loadConfig reads (it reads them all, even when some are missing). */
function variablesRead(): Set<string> {
  const read = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get: (_target, key) => {
      if (typeof key === 'string') read.add(key);
      return undefined;
    },
  });
  expect(() => loadConfig(env)).toThrow();
  return read;
}

describe('docs/deploy.md', () => {
  it('invites the bot with exactly the permissions the code checks for (plus the two optional ones)', () => {
    const required = [...VOICE_NEEDS, ...POST_NEEDS].reduce((bits, [, bit]) => bits | bit, 0n);
    const optional = required | PermissionFlagsBits.ChangeNickname | PermissionFlagsBits.ManageWebhooks;
    const urls = [...guide.matchAll(/discord\.com\/oauth2\/authorize\?client_id=APP_ID&scope=bot%20applications\.commands&permissions=(\d+)/g)];
    expect(urls.map((m) => m[1])).toEqual([String(required)]);
    expect(guide).toContain(`**${required}**`);
    expect(guide).toContain(`permissions=${optional}`);
    expect(guide).toContain(`**${optional}**`);
  });

  it('lists every environment variable the bot reads', () => {
    const read = variablesRead();
    expect(read.size).toBeGreaterThan(10);
    const table = guide.slice(guide.indexOf('## 8. Environment variables'), guide.indexOf('## 9.'));
    for (const name of read) expect(table, name).toContain(`| \`${name}\` |`);
  });

  it('takes memory figures from docs/benchmarks.md instead of carrying its own', () => {
    expect(guide).toContain('(benchmarks.md)');
    // The page it points to is committed, with the memory table the benchmark writes.
    expect(readFileSync(join(root, 'docs/benchmarks.md'), 'utf8')).toMatch(/idle-1000-guilds/);
    expect(guide).not.toMatch(/TBD|PLACEHOLDER/);
  });
});

describe('README.md', () => {
  it('lists every environment variable the bot reads', () => {
    for (const name of variablesRead()) expect(readme, name).toContain(`| \`${name}\` |`);
  });

  it('lists every slash command and every /join option', () => {
    for (const command of COMMANDS) expect(readme, command.name).toContain(`\`/${command.name}`);
    const join = COMMANDS.find((c) => c.name === 'join');
    for (const option of join?.options ?? []) expect(readme, option.name).toContain(`[${option.name}]`);
  });
});
