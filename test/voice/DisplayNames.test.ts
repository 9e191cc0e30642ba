import type { APIGuildMember } from '@discordjs/core';
import { describe, expect, it } from 'vitest';
import { DisplayNames, displayNameOf, type FetchMember } from '../../src/voice/DisplayNames.js';
import { createLogger } from '../../src/util/logger.js';

const GUILD_ID = '1180000000000000001';
const USER_ID = '1180000000000000002';

type Member = Pick<APIGuildMember, 'nick' | 'user'>;

function member(nick: string | null, globalName: string | null, username = 'alice'): Member {
  return {
    nick,
    user: { id: USER_ID, username, discriminator: '0', global_name: globalName, avatar: null },
  };
}

/** A promise with its resolve/reject exposed, so a test decides when a lookup answers. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function setup(fetchMember: FetchMember) {
  const lines: string[] = [];
  const calls: [string, string][] = [];
  const names = new DisplayNames(
    GUILD_ID,
    (guildId, userId) => {
      calls.push([guildId, userId]);
      return fetchMember(guildId, userId);
    },
    createLogger({ level: 'debug', write: (line) => lines.push(line) }),
  );
  return { names, calls, lines };
}

describe('displayNameOf', () => {
  it('prefers the guild nickname, then the global display name, then the username', () => {
    expect(displayNameOf(member('Ali', 'Alice', 'alice'))).toBe('Ali');
    expect(displayNameOf(member(null, 'Alice', 'alice'))).toBe('Alice');
    expect(displayNameOf(member(null, null, 'alice'))).toBe('alice');
    expect(displayNameOf({ nick: 'Ali' })).toBe('Ali');
    expect(displayNameOf({})).toBeUndefined();
  });
});

describe('DisplayNames', () => {
  it('answers from a remembered payload without asking Discord', async () => {
    const { names, calls } = setup(() => Promise.reject(new Error('must not be called')));
    names.remember(USER_ID, member(null, 'Alice'));
    expect(await names.resolve(USER_ID)).toBe('Alice');
    names.remember(USER_ID, member('Ali', 'Alice'));
    expect(await names.resolve(USER_ID)).toBe('Ali');
    expect(calls).toEqual([]);
  });

  it('ignores a payload without a name', async () => {
    const { names } = setup(() => Promise.resolve(member(null, 'Fetched')));
    names.remember(USER_ID, member(null, 'Alice'));
    names.remember(USER_ID, undefined);
    names.remember(USER_ID, {});
    expect(await names.resolve(USER_ID)).toBe('Alice');
  });

  it('looks a member up once even when many resolves race, then caches the name', async () => {
    const answer = deferred<Member>();
    const { names, calls } = setup(() => answer.promise);
    const pending = Array.from({ length: 5 }, () => names.resolve(USER_ID));
    expect(calls).toEqual([[GUILD_ID, USER_ID]]);
    answer.resolve(member('Ali', 'Alice'));
    expect(await Promise.all(pending)).toEqual(['Ali', 'Ali', 'Ali', 'Ali', 'Ali']);
    expect(await names.resolve(USER_ID)).toBe('Ali');
    expect(calls).toHaveLength(1);
  });

  it('looks different users up separately', async () => {
    const { names, calls } = setup((_guild, userId) => Promise.resolve(member(null, `Name of ${userId}`)));
    expect(await Promise.all([names.resolve('1'), names.resolve('2'), names.resolve('1')])).toEqual([
      'Name of 1',
      'Name of 2',
      'Name of 1',
    ]);
    expect(calls.map(([, userId]) => userId)).toEqual(['1', '2']);
  });

  it('falls back to "User <id>" when the lookup fails, logs it once, and does not ask again', async () => {
    const answer = deferred<Member>();
    const { names, calls, lines } = setup(() => answer.promise);
    const first = names.resolve(USER_ID);
    const second = names.resolve(USER_ID);
    answer.reject(Object.assign(new Error('Unknown Member'), { code: 10007 }));
    expect(await first).toBe(`User ${USER_ID}`);
    expect(await second).toBe(`User ${USER_ID}`);
    expect(await names.resolve(USER_ID)).toBe(`User ${USER_ID}`);
    expect(calls).toHaveLength(1);
    const warnings = lines.map((l) => JSON.parse(l) as { level: string; userId: string; error: { code: number } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', userId: USER_ID, error: { code: 10007 } });
  });

  it('falls back to "User <id>" when the member has no name at all', async () => {
    const { names } = setup(() => Promise.resolve({ nick: null } as Member));
    expect(await names.resolve(USER_ID)).toBe(`User ${USER_ID}`);
  });

  it('keeps a name learnt from a payload while a lookup was failing', async () => {
    const answer = deferred<Member>();
    const { names } = setup(() => answer.promise);
    const pending = names.resolve(USER_ID);
    // A VOICE_STATE_UPDATE with the member arrives while REST is still answering.
    names.remember(USER_ID, member(null, 'Alice'));
    answer.reject(new Error('socket hang up'));
    await pending;
    // The placeholder must not overwrite the real name.
    expect(await names.resolve(USER_ID)).toBe('Alice');
  });
});
