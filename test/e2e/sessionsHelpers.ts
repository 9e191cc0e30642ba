import { dtmfPcm } from '../sim/audio/index.js';
import type { DiscordSimulator, InteractionOptionInput, SimSpeaker } from '../sim/discord/index.js';
import type { ReceivedFile } from '../sim/discord/records.js';

/** What the bot answered to one interaction (the reply, or the edit of a deferred reply). */
export interface CommandAnswer {
  readonly content: string;
  readonly ephemeral: boolean;
  readonly deferred: boolean;
}

/** Runs a slash command as `userId` and waits for the bot's answer. */
export async function runCommand(
  sim: DiscordSimulator,
  userId: string,
  name: string,
  options: { options?: readonly InteractionOptionInput[]; guildId?: string; channelId?: string; timeoutMs?: number } = {},
): Promise<CommandAnswer> {
  const { id } = sim.injectInteraction({
    userId,
    name,
    ...(options.options ? { options: options.options } : {}),
    ...(options.guildId ? { guildId: options.guildId } : {}),
    ...(options.channelId ? { channelId: options.channelId } : {}),
  });
  const timeoutMs = options.timeoutMs ?? 25_000;
  const callback = await sim.waitFor(() => sim.records.interactionCallbacks.find((c) => c.interactionId === id), timeoutMs, `answer to /${name}`);
  const flagsOf = (data: Readonly<Record<string, unknown>> | undefined) => Number(data?.['flags'] ?? 0);
  if (callback.type === 4) {
    return { content: String(callback.data?.['content'] ?? ''), ephemeral: (flagsOf(callback.data) & 64) !== 0, deferred: false };
  }
  const edit = await sim.waitFor(() => sim.records.webhookMessages.find((m) => m.interactionId === id && m.kind === 'editOriginal'), timeoutMs, `deferred /${name}`);
  return { content: edit.content ?? '', ephemeral: (flagsOf(callback.data) & 64) !== 0, deferred: true };
}

/** A string option. */
export const str = (name: string, value: string): InteractionOptionInput => ({ name, type: 3, value });
/** A channel option. */
export const channel = (name: string, value: string): InteractionOptionInput => ({ name, type: 7, value });

/** Plays DTMF digits as one speaker (100 ms lead, ends with silence frames). */
export async function say(speaker: SimSpeaker, digits: string): Promise<void> {
  await speaker.play(dtmfPcm(digits, { leadMs: 100 }), { shape: 'mixed', seed: digits.length });
}

/** Live transcript lines in a channel. */
export function linesIn(sim: DiscordSimulator, channelId: string): string[] {
  return sim.records.messages
    .filter((m) => m.channelId === channelId)
    .flatMap((m) => m.content.split('\n'))
    .filter((line) => line.startsWith('**'));
}

/** Waits for a live line in a channel. */
export function waitForLine(sim: DiscordSimulator, channelId: string, line: string, timeoutMs = 20_000): Promise<string> {
  return sim.waitFor(() => linesIn(sim, channelId).find((l) => l === line), timeoutMs, `line ${line}`);
}

/** The end-of-session message(s) of a channel, with all their files by name. */
export async function waitForTranscriptFiles(sim: DiscordSimulator, channelId: string, timeoutMs = 40_000): Promise<{ content: string; files: Map<string, ReceivedFile> }> {
  const message = await sim.waitFor(
    () => sim.records.messages.find((m) => m.channelId === channelId && m.content.startsWith('⏹️ Stopped transcribing')),
    timeoutMs,
    'transcript files',
  );
  // A transcript split over several messages says "(1/N)" in the first; wait for all N.
  const parts = Number(/ \(1\/(\d+)\)\.$/.exec(message.content)?.[1] ?? 1);
  const messages = await sim.waitFor(
    () => {
      const all = sim.records.messages.filter((m) => m.channelId === channelId && m.at >= message.at && m.files.length > 0);
      return all.length >= parts ? all : undefined;
    },
    timeoutMs,
    `${parts} transcript messages`,
  );
  const files = new Map<string, ReceivedFile>();
  for (const m of messages) for (const f of m.files) files.set(f.name, f);
  return { content: message.content, files };
}
