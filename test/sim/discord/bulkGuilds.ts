import { SnowflakeFactory } from './ids.js';
import { Prng } from './prng.js';
import { ChannelKind, MEMBER_PERMISSIONS, type SimChannel, type SimGuild, type SimWorld } from './SimWorld.js';

/** Shape of each generated guild. Defaults resemble a mid-sized community server. */
export interface BulkGuildShape {
  /** Channels, including categories (every 8th is a category, every 4th a voice channel). Default 50. */
  readonly channels?: number;
  /** Roles besides @everyone. Default 30. */
  readonly roles?: number;
  /** Custom emojis. Default 20. */
  readonly emojis?: number;
  /** Members modelled per guild (names, for voice states and lookups). Default 10. */
  readonly members?: number;
  /** Members in voice at login (≤ members). Default 3. */
  readonly voiceStates?: number;
  /** member_count reported; above the bot's large_threshold the guild is `large`. Default 250. */
  readonly memberCount?: number;
  /** PRNG seed for names and flags. Default 42. */
  readonly seed?: number;
}

const WORDS = ['lofi', 'raid', 'study', 'dev', 'art', 'music', 'memes', 'chill', 'gaming', 'book', 'anime', 'news', 'help', 'vc', 'off-topic'];

/**
 * Adds `count` realistic guilds to the world, for the memory benchmark: each has categories, text and voice
 * channels, roles with permission strings, emojis, named members, a few voice states and a large member count.
 */
export function addBulkGuilds(world: SimWorld, count: number, shape: BulkGuildShape = {}): SimGuild[] {
  const prng = new Prng(shape.seed ?? 42);
  const userIds = new SnowflakeFactory(Date.UTC(2019, 0, 1));
  const channelCount = shape.channels ?? 50;
  const roleCount = shape.roles ?? 30;
  const emojiCount = shape.emojis ?? 20;
  const memberCount = shape.members ?? 10;
  const voiceCount = Math.min(shape.voiceStates ?? 3, memberCount);
  const word = () => WORDS[prng.int(WORDS.length)]!;
  const guilds: SimGuild[] = [];

  for (let g = 0; g < count; g++) {
    const ownerId = userIds.next();
    const guild = world.createGuild(`${word()} ${word()} club #${g + 1}`, ownerId);
    let categoryId: string | null = null;
    // createGuild made 3 channels; add the rest
    for (let c = guild.channels.length; c < channelCount; c++) {
      const id = world.ids.next();
      let channel: SimChannel;
      if (c % 8 === 0) {
        channel = { id, type: ChannelKind.Category, name: `${word()} zone`.toUpperCase(), position: c, parentId: null };
        categoryId = id;
      } else if (c % 4 === 0) {
        channel = { id, type: ChannelKind.Voice, name: `${word()} voice ${c}`, position: c, parentId: categoryId };
      } else {
        channel = { id, type: ChannelKind.Text, name: `${word()}-${c}`, position: c, parentId: categoryId, topic: `All about ${word()} and ${word()}.` };
      }
      guild.channels.push(channel);
    }
    for (let r = 0; r < roleCount; r++) {
      guild.roles.push({
        id: world.ids.next(),
        name: `${word()} ${['fan', 'mod', 'member', 'helper', 'veteran'][r % 5]}`,
        color: prng.int(0xffffff),
        position: r + 1,
        permissions: r % 10 === 0 ? '1099511627775' : MEMBER_PERMISSIONS,
        hoist: r % 7 === 0,
        mentionable: r % 3 === 0,
        managed: r === 0,
      });
    }
    for (let e = 0; e < emojiCount; e++) {
      guild.emojis.push({ id: world.ids.next(), name: `${word()}_${e}`, animated: e % 5 === 0, roles: [] });
    }
    const voiceChannels = guild.channels.filter((c) => c.type === ChannelKind.Voice);
    for (let m = 0; m < memberCount; m++) {
      const user = {
        id: m === 0 ? ownerId : userIds.next(),
        username: `${word()}${prng.int(10_000)}`,
        globalName: m % 3 === 2 ? null : `${word()} ${word()}`,
        bot: false,
      };
      const member = world.addMember(guild, user, m % 4 === 0 ? `nick ${word()}` : null);
      member.roles.push(guild.roles[1 + (m % Math.max(1, roleCount))]?.id ?? guild.id);
      if (m < voiceCount) {
        const channel = voiceChannels[m % voiceChannels.length]!;
        world.setVoiceState(guild, user.id, channel.id, { selfMute: m % 2 === 1 });
      }
    }
    guild.memberCount = Math.max(guild.memberCount, shape.memberCount ?? 250);
    guilds.push(guild);
  }
  return guilds;
}
