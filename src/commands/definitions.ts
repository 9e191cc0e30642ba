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
      {
        name: 'webhook',
        description: "Post each line under the speaker's name and avatar (needs Manage Webhooks)",
        type: ApplicationCommandOptionType.Boolean,
        required: false,
      },
    ],
  },
  {
    name: 'leave',
    description: 'Stop transcribing, leave the voice channel and post the transcript files',
    dm_permission: false,
  },
  {
    name: 'status',
    description: 'Show the transcription session and how tinyscribe is doing (only you see it)',
    dm_permission: false,
  },
  {
    name: 'optout',
    description: 'Never transcribe me: my voice is not decoded, stored or sent anywhere, in every server',
    dm_permission: false,
  },
  {
    name: 'optin',
    description: 'Allow tinyscribe to transcribe me again',
    dm_permission: false,
  },
  {
    name: 'language',
    description: "Set this server's default spoken language for transcripts",
    dm_permission: false,
    options: [
      {
        name: 'code',
        description: 'ISO-639-1 code (e.g. en, de, fr), or auto to detect it',
        type: ApplicationCommandOptionType.String,
        required: true,
        max_length: 8,
      },
    ],
  },
  {
    name: 'prompt',
    description: "Set this server's vocabulary hint (names, jargon) for the speech-to-text API",
    dm_permission: false,
    options: [
      {
        name: 'text',
        description: 'Words to expect, e.g. "Kubernetes, Grafana, Ally" (or "clear" to remove it)',
        type: ApplicationCommandOptionType.String,
        required: true,
        max_length: 500,
      },
    ],
  },
] as const satisfies RESTPutAPIApplicationCommandsJSONBody;

export type CommandName = (typeof COMMANDS)[number]['name'];
