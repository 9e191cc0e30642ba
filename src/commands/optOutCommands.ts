import type { CommandHandler } from './CommandRouter.js';
import type { SettingsStore } from '../settings/SettingsStore.js';
import type { VoiceSessionManager } from '../voice/VoiceSessionManager.js';

/** `/optout`: the caller's voice is never decoded, stored or uploaded again, in any guild, until /optin. */
export function createOptOutCommand(settings: SettingsStore, sessions: VoiceSessionManager): CommandHandler {
  return async (inv) => {
    await settings.setOptedOut(inv.userId, true);
    // Stop receiving them at once in every running session (their next speech is never subscribed).
    for (const active of sessions.all()) active.session.dropSpeaker(inv.userId);
    return {
      content: "You are opted out in every server: tinyscribe no longer decodes, stores or sends your voice anywhere. Use /optin to undo.",
      ephemeral: true,
    };
  };
}

/** `/optin`: undoes /optout. */
export function createOptInCommand(settings: SettingsStore): CommandHandler {
  return async (inv) => {
    const was = settings.isOptedOut(inv.userId);
    await settings.setOptedOut(inv.userId, false);
    return {
      content: was ? 'You are opted in again: what you say in a transcribed channel is transcribed.' : 'You were not opted out; nothing changed.',
      ephemeral: true,
    };
  };
}
