import { ChannelType, PermissionFlagsBits, type API, type APIChannel } from '@discordjs/core';
import { DiscordAPIError } from '@discordjs/rest';
import type { CommandHandler, Reply } from './CommandRouter.js';
import type { CommandInvocation } from './parseInteraction.js';
import { channelPermissions, missingPermissions, POST_NEEDS, VOICE_NEEDS } from './channelPermissions.js';
import { effectiveLanguage, parseLanguage } from './languageCode.js';
import type { PostMode, VoiceSessionManager } from '../voice/VoiceSessionManager.js';
import type { SettingsStore } from '../settings/SettingsStore.js';
import { errorMessage } from '../util/errors.js';

export interface JoinCommandDeps {
  readonly api: API;
  readonly sessions: VoiceSessionManager;
  readonly settings: SettingsStore;
  /** The voice channel a member is in, when the gateway told us (REST is asked otherwise). */
  readonly voiceChannelOf: (guildId: string, userId: string) => string | undefined;
  /** REST told us where a member is (the gateway had not): keep it, or auto-leave would count nobody. */
  readonly sawInVoice?: (guildId: string, userId: string, channelId: string) => void;
  /** Our own user id, once READY arrived. */
  readonly botUserId: () => string | undefined;
  /** Where audio goes, for the consent notice (e.g. "api.openai.com"). */
  readonly transcriptionHost: string;
  readonly defaultLanguage: string | undefined;
  readonly defaultPrompt: string | undefined;
  /** POST_MODE: how lines are posted unless /join's `webhook` option says otherwise. */
  readonly defaultPostMode: PostMode;
  /** Posts the consent notice in a channel other than the one /join was used in. */
  readonly postNotice: (channelId: string, content: string) => Promise<void>;
  /** Puts the recording marker in the bot's nickname (only called when allowed to change it). */
  readonly markRecording?: (guildId: string) => Promise<void>;
}

const VOICE_TYPES: readonly number[] = [ChannelType.GuildVoice, ChannelType.GuildStageVoice];
const TEXT_TYPES: readonly number[] = [ChannelType.GuildText, ChannelType.GuildVoice, ChannelType.GuildAnnouncement, ChannelType.PublicThread, ChannelType.PrivateThread];

const refuse = (content: string): Reply => ({ content, ephemeral: true });

/** `/join [channel] [language] [post_to]`: starts a session in the caller's voice channel. */
export function createJoinCommand(deps: JoinCommandDeps): CommandHandler {
  return async (inv) => {
    const running = deps.sessions.get(inv.guildId);
    if (running) {
      const t = running.session.target;
      return refuse(`Already transcribing <#${t.voiceChannelId}> into <#${t.textChannelId}> in this server. Use /leave there first.`);
    }

    const channelOption = inv.options.get('channel');
    const voiceChannelId = typeof channelOption === 'string' ? channelOption : await callerVoiceChannel(deps, inv);
    if (!voiceChannelId) return refuse('Join a voice channel first (or pass one with the `channel` option).');

    const languageOption = inv.options.get('language');
    let languageChoice: string | undefined;
    if (typeof languageOption === 'string') {
      const parsed = parseLanguage(languageOption);
      if (!parsed.ok) return refuse(`"${languageOption}" is not a language code; use e.g. en, de, fr, or auto.`);
      languageChoice = parsed.language;
    }
    const guildSettings = deps.settings.guild(inv.guildId);
    const language = effectiveLanguage(languageChoice, guildSettings.language, deps.defaultLanguage);
    const prompt = guildSettings.prompt ?? deps.defaultPrompt;
    const postTo = inv.options.get('post_to');
    const textChannelId = typeof postTo === 'string' ? postTo : inv.channelId;

    const checked = await checkPermissions(deps, inv, voiceChannelId, textChannelId);
    if ('refusal' in checked) return checked.refusal;
    const webhookOption = inv.options.get('webhook');
    const wantsWebhook = typeof webhookOption === 'boolean' ? webhookOption : deps.defaultPostMode === 'webhook';
    const mayWebhook = (checked.textPermissions & PermissionFlagsBits.ManageWebhooks) !== 0n;
    const postMode: PostMode = wantsWebhook && mayWebhook ? 'webhook' : 'messages';

    let active;
    try {
      active = await deps.sessions.start({
        guildId: inv.guildId,
        voiceChannelId,
        textChannelId,
        startedBy: inv.userId,
        language,
        prompt,
        postMode,
        ...(inv.attachmentSizeLimit ? { attachmentLimit: inv.attachmentSizeLimit } : {}),
      });
    } catch (error) {
      return refuse(`Could not join <#${voiceChannelId}>: ${errorMessage(error)}`);
    }
    active.names.remember(inv.userId, inv.member);
    if (deps.markRecording && inv.appPermissions !== undefined && (inv.appPermissions & PermissionFlagsBits.ChangeNickname) !== 0n) {
      void deps.markRecording(inv.guildId);
    }
    const notice =
      `🔴 **Transcribing <#${voiceChannelId}>.** Everything said there is sent to ${deps.transcriptionHost} for speech-to-text ` +
      `and posted in <#${textChannelId}>, with a transcript file at the end. ` +
      `Don't want to be transcribed? Use /optout (works in every server). /leave stops the session.` +
      (wantsWebhook && !mayWebhook ? `\n(Posting plain messages: speaker names and avatars need **Manage Webhooks** in <#${textChannelId}>.)` : '');
    if (textChannelId !== inv.channelId) {
      await deps.postNotice(textChannelId, notice);
      return { content: `${notice}\n(Posting in <#${textChannelId}>.)` };
    }
    return { content: notice };
  };
}

/** The caller's voice channel: from the gateway's voice states, else Discord's voice-state endpoint. */
async function callerVoiceChannel(deps: JoinCommandDeps, inv: CommandInvocation): Promise<string | undefined> {
  const known = deps.voiceChannelOf(inv.guildId, inv.userId);
  if (known) return known;
  try {
    const state = await deps.api.voice.getUserVoiceState(inv.guildId, inv.userId);
    if (state.channel_id) deps.sawInVoice?.(inv.guildId, inv.userId, state.channel_id);
    return state.channel_id ?? undefined;
  } catch (error) {
    if (error instanceof DiscordAPIError && error.status === 404) return undefined;
    throw error;
  }
}

/** Refuses when the bot may not listen in the voice channel or post (with files) in the text channel. */
async function checkPermissions(
  deps: JoinCommandDeps,
  inv: CommandInvocation,
  voiceChannelId: string,
  textChannelId: string,
): Promise<{ refusal: Reply } | { textPermissions: bigint }> {
  const botId = deps.botUserId();
  if (!botId) return { refusal: refuse('tinyscribe is still connecting to Discord; try again in a few seconds.') };
  const fetchChannel = (id: string): Promise<APIChannel | undefined> =>
    deps.api.channels.get(id).catch((error: unknown) => {
      if (error instanceof DiscordAPIError && (error.status === 404 || error.status === 403)) return undefined;
      throw error;
    });
  const [roles, me, voice, text] = await Promise.all([
    deps.api.guilds.getRoles(inv.guildId),
    deps.api.guilds.getMember(inv.guildId, botId),
    fetchChannel(voiceChannelId),
    fetchChannel(textChannelId),
  ]);
  const inGuild = (c: APIChannel | undefined): c is APIChannel & { guild_id: string } => !!c && 'guild_id' in c && c.guild_id === inv.guildId;
  if (!inGuild(voice) || !VOICE_TYPES.includes(voice.type)) return { refusal: refuse(`<#${voiceChannelId}> is not a voice channel I can see in this server.`) };
  if (!inGuild(text) || !TEXT_TYPES.includes(text.type)) return { refusal: refuse(`<#${textChannelId}> is not a text channel I can see in this server.`) };
  const permsIn = (c: APIChannel) =>
    channelPermissions({
      guildId: inv.guildId,
      userId: botId,
      memberRoles: me.roles,
      roles,
      overwrites: 'permission_overwrites' in c ? (c.permission_overwrites ?? []) : [],
    });
  const textPermissions = permsIn(text);
  const missingVoice = missingPermissions(permsIn(voice), VOICE_NEEDS);
  const missingText = missingPermissions(textPermissions, POST_NEEDS);
  const problems = [
    ...(missingVoice.length > 0 ? [`**${missingVoice.join(', ')}** in <#${voiceChannelId}>`] : []),
    ...(missingText.length > 0 ? [`**${missingText.join(', ')}** in <#${textChannelId}>`] : []),
  ];
  if (problems.length === 0) return { textPermissions };
  return { refusal: refuse(`I can't start: I am missing ${problems.join(' and ')}. Ask someone with Manage Server to give tinyscribe these permissions.`) };
}
