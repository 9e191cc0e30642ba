import { describe, expect, it } from 'vitest';
import { DisplayNames, avatarUrlOf } from '../../src/voice/DisplayNames.js';
import { createLogger } from '../../src/util/logger.js';

const logger = createLogger({ level: 'silent' });
const user = (username: string, global_name: string | null, avatar: string | null = null) => ({ id: '1', username, global_name, avatar });

describe('DisplayNames avatars', () => {
  it('knows avatars: guild avatar, else user avatar, else the default one for the id', () => {
    expect(avatarUrlOf('g', '10', { avatar: 'ga', user: user('a', null, 'ua') })).toBe('https://cdn.discordapp.com/guilds/g/users/10/avatars/ga.png');
    expect(avatarUrlOf('g', '10', { user: user('a', null, 'ua') })).toBe('https://cdn.discordapp.com/avatars/10/ua.png');
    expect(avatarUrlOf('g', String(5n << 22n), { user: user('a', null) })).toBe('https://cdn.discordapp.com/embed/avatars/5.png');
    const names = new DisplayNames('g', async () => Promise.reject(new Error('no lookup expected')), logger);
    names.remember('10', { nick: 'Ally', user: user('alice', null, 'ua') });
    expect(names.avatarOf('10')).toBe('https://cdn.discordapp.com/avatars/10/ua.png');
  });
});
