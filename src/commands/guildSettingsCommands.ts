import { PermissionFlagsBits } from '@discordjs/core';
import type { CommandHandler, Reply } from './CommandRouter.js';
import type { CommandInvocation } from './parseInteraction.js';
import { parseLanguage } from './languageCode.js';
import type { SettingsStore } from '../settings/SettingsStore.js';
import { escapeMarkdown } from '../transcribe/markdown.js';

const needsManageServer = (inv: CommandInvocation): Reply | undefined =>
  (inv.memberPermissions & PermissionFlagsBits.ManageGuild) !== 0n
    ? undefined
    : { content: "Only members with Manage Server can change this server's transcription settings.", ephemeral: true };

/** `/language <code|auto>`: the guild's default spoken language (next sessions; /join may still override it). */
export function createLanguageCommand(settings: SettingsStore): CommandHandler {
  return async (inv) => {
    const refusal = needsManageServer(inv);
    if (refusal) return refusal;
    const raw = inv.options.get('code');
    const parsed = typeof raw === 'string' ? parseLanguage(raw) : { ok: false as const };
    if (!parsed.ok) return { content: `"${String(raw ?? '')}" is not a language code; use e.g. en, de, fr, or auto.`, ephemeral: true };
    await settings.updateGuild(inv.guildId, { language: parsed.language });
    return {
      content: parsed.language === 'auto' ? 'Language: detected automatically from the next session on.' : `Language: **${parsed.language}** from the next session on.`,
    };
  };
}

const CLEAR = new Set(['clear', 'none', 'off', '-']);

/** `/prompt <text>`: the guild's vocabulary hint for the speech-to-text API ("clear" removes it). */
export function createPromptCommand(settings: SettingsStore): CommandHandler {
  return async (inv) => {
    const refusal = needsManageServer(inv);
    if (refusal) return refusal;
    const raw = inv.options.get('text');
    const text = typeof raw === 'string' ? raw.trim().slice(0, 500) : '';
    if (text === '' || CLEAR.has(text.toLowerCase())) {
      await settings.updateGuild(inv.guildId, { prompt: undefined });
      return { content: 'Vocabulary hint removed.' };
    }
    await settings.updateGuild(inv.guildId, { prompt: text });
    return { content: `Vocabulary hint set from the next session on: ${escapeMarkdown(text)}` };
  };
}
