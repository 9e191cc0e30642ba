import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PermissionFlagsBits } from '@discordjs/core';
import { describe, expect, it } from 'vitest';
import { POST_NEEDS, VOICE_NEEDS } from '../../src/commands/channelPermissions.js';
import { loadConfig } from '../../src/config/Config.js';
import { projectRootOf } from './projectRoot.js';

const root = projectRootOf(import.meta.dirname);
const guide = readFileSync(join(root, 'docs/deploy.md'), 'utf8');

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
    const read = new Set<string>();
    const env = new Proxy({} as Record<string, string | undefined>, {
      get: (_target, key) => {
        if (typeof key === 'string') read.add(key);
        return undefined;
      },
    });
    expect(() => loadConfig(env)).toThrow();
    expect(read.size).toBeGreaterThan(10);
    const table = guide.slice(guide.indexOf('## 8. Environment variables'), guide.indexOf('## 9.'));
    for (const name of read) expect(table, name).toContain(`| \`${name}\` |`);
  });

  it('takes memory figures from docs/benchmarks.md instead of carrying its own', () => {
    expect(guide).toContain('(benchmarks.md)');
    expect(guide).not.toMatch(/TBD|PLACEHOLDER/);
  });
});
