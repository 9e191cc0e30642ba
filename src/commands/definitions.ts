import { ApplicationCommandOptionType, ChannelType, type RESTPutAPIApplicationCommandsJSONBody } from '@discordjs/core';

/** The slash commands, as data. `npm run register` sends exactly this list. */
export const COMMANDS = [
  {
    name: 'join',
    description: 'Join your voice channel and post a live transcript here',
    dm_permission: false,
    options: [
      {
        name: 'channel',
        description: 'Voice channel to transcribe (default: the one you are in)',
        type: ApplicationCommandOptionType.Channel,
        channel_types: [ChannelType.GuildVoice, ChannelType.GuildStageVoice],
        required: false,
      },
      {
        name: 'language',
        description: 'Spoken language as an ISO-639-1 code (e.g. en, de), or auto',
        type: ApplicationCommandOptionType.String,
        required: false,
        max_length: 8,
      },
      {
        name: 'post_to',
        description: 'Text channel for the transcript (default: this one)',
        type: ApplicationCommandOptionType.Channel,
        channel_types: [ChannelType.GuildText, ChannelType.GuildVoice],
        required: false,
      },
    ],
  },
  {
    name: 'leave',
    description: 'Stop transcribing and leave the voice channel',
    dm_permission: false,
  },
] as const satisfies RESTPutAPIApplicationCommandsJSONBody;

export type CommandName = (typeof COMMANDS)[number]['name'];
