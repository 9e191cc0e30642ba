import type { API } from '@discordjs/core';
import { DiscordAPIError } from '@discordjs/rest';
import type { CommandHandler } from './CommandRouter.js';
import type { VoiceSessionManager } from '../voice/VoiceSessionManager.js';
import { errorMessage } from '../util/errors.js';

export interface JoinCommandDeps {
  readonly api: API;
  readonly sessions: VoiceSessionManager;
  /** Where audio goes, for the consent notice (e.g. "api.openai.com"). */
  readonly transcriptionHost: string;
  readonly defaultLanguage: string | undefined;
  readonly defaultPrompt: string | undefined;
}

const LANGUAGE = /^[a-z]{2,3}$/;

/** `/join [channel] [language] [post_to]`: starts a session in the caller's voice channel. */
export function createJoinCommand(deps: JoinCommandDeps): CommandHandler {
  return async (inv) => {
    const running = deps.sessions.get(inv.guildId);
    if (running) {
      const t = running.session.target;
      return { content: `Already transcribing <#${t.voiceChannelId}> into <#${t.textChannelId}>. Use /leave first.`, ephemeral: true };
    }

    let voiceChannelId = typeof inv.options.get('channel') === 'string' ? (inv.options.get('channel') as string) : undefined;
    if (!voiceChannelId) {
      try {
        const state = await deps.api.voice.getUserVoiceState(inv.guildId, inv.userId);
        voiceChannelId = state.channel_id ?? undefined;
        if (state.self_deaf) {
          // A deafened caller still gets transcribed; we only warn, since we hear the channel, not them.
        }
      } catch (error) {
        if (!(error instanceof DiscordAPIError) || error.status !== 404) throw error;
      }
    }
    if (!voiceChannelId) return { content: 'Join a voice channel first (or pass one with the `channel` option).', ephemeral: true };

    const languageOption = inv.options.get('language');
    let language = deps.defaultLanguage;
    if (typeof languageOption === 'string') {
      const code = languageOption.trim().toLowerCase();
      if (code === 'auto') language = undefined;
      else if (LANGUAGE.test(code)) language = code;
      else return { content: `"${languageOption}" is not a language code; use e.g. en, de, fr, or auto.`, ephemeral: true };
    }
    const postTo = inv.options.get('post_to');
    const textChannelId = typeof postTo === 'string' ? postTo : inv.channelId;

    try {
      const active = await deps.sessions.start({
        guildId: inv.guildId,
        voiceChannelId,
        textChannelId,
        startedBy: inv.userId,
        language,
        prompt: deps.defaultPrompt,
      });
      active.names.remember(inv.userId, inv.member);
    } catch (error) {
      return { content: `Could not join <#${voiceChannelId}>: ${errorMessage(error)}`, ephemeral: true };
    }
    return {
      content:
        `🔴 **Transcribing <#${voiceChannelId}>.** What is said there is sent to ${deps.transcriptionHost} for speech-to-text ` +
        `and posted in <#${textChannelId}>. Use /leave to stop.`,
    };
  };
}
