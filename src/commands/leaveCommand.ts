import { PermissionFlagsBits } from '@discordjs/core';
import type { CommandHandler } from './CommandRouter.js';
import type { VoiceSessionManager } from '../voice/VoiceSessionManager.js';

/**
 * `/leave`: ends the guild's session; allowed for whoever started it and for members with Manage Server.
 * The transcript files follow in the posting channel once the last lines are in.
 */
export function createLeaveCommand(sessions: VoiceSessionManager): CommandHandler {
  return async (inv) => {
    const active = sessions.get(inv.guildId);
    if (!active) return { content: 'Not transcribing anything in this server.', ephemeral: true };
    const target = active.session.target;
    const mayStop = target.startedBy === inv.userId || (inv.memberPermissions & PermissionFlagsBits.ManageGuild) !== 0n;
    if (!mayStop) return { content: `Only <@${target.startedBy}> or someone with Manage Server can stop this session.`, ephemeral: true };
    sessions.stop(inv.guildId, 'leave');
    return { content: `⏹️ Stopped transcribing <#${target.voiceChannelId}>. The transcript files follow in <#${target.textChannelId}>.` };
  };
}
