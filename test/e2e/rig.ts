import { DiscordSimulator, type DiscordSimulatorOptions } from '../sim/discord/index.js';
import { WhisperStandIn, type WhisperStandInOptions } from '../sim/whisper/WhisperStandIn.js';
import { BotProcess, type BotProcessOptions } from '../util/BotProcess.js';

/** A loopback Discord, a Whisper stand-in and the bot as a separate process, wired together. */
export interface Rig {
  readonly sim: DiscordSimulator;
  readonly whisper: WhisperStandIn;
  readonly bot: BotProcess;
  /** Closes the bot (SIGKILL if still running), the stand-in and the simulator. */
  close(): Promise<void>;
}

export interface RigOptions {
  readonly sim?: DiscordSimulatorOptions;
  readonly whisper?: WhisperStandInOptions;
  /** Extra bot environment (over the wiring below). */
  readonly env?: Record<string, string | undefined>;
  /** Reuse a data dir (restart tests). */
  readonly dataDir?: string;
  /** Start the bot and wait for its gateway READY (default true). */
  readonly waitReady?: boolean;
  /** Start another command line than the repo's build (the Dockerfile replay). */
  readonly command?: BotProcessOptions['command'];
}

export const STANDIN_API_KEY = 'sk-test';

/** The bot environment that points it at a simulator and a stand-in. */
export function rigEnv(sim: DiscordSimulator, whisper: WhisperStandIn, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    DISCORD_TOKEN: sim.token,
    DISCORD_API_URL: sim.apiUrl,
    TRANSCRIBE_BASE_URL: whisper.baseUrl,
    TRANSCRIBE_API_KEY: STANDIN_API_KEY,
    NODE_EXTRA_CA_CERTS: sim.caCertPath,
    SILENCE_GAP_MS: '800',
    ...extra,
  };
}

/** Starts simulator, stand-in and bot process; waits until the bot's gateway is ready. */
export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const sim = await DiscordSimulator.start(options.sim);
  const whisper = await WhisperStandIn.start({ apiKey: STANDIN_API_KEY, ...options.whisper });
  const bot = new BotProcess({
    env: rigEnv(sim, whisper, options.env),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.command ? { command: options.command } : {}),
  });
  const rig: Rig = {
    sim,
    whisper,
    bot,
    async close() {
      await bot.dispose();
      await whisper.close();
      await sim.close();
    },
  };
  try {
    if (options.waitReady !== false) {
      await sim.waitFor(() => sim.records.identifies.length > 0, 20_000, 'bot identify');
      await bot.waitForLog((l) => l.msg === 'gateway ready', 20_000);
    }
  } catch (error) {
    await rig.close();
    throw error;
  }
  return rig;
}

/** Puts the given members in the default voice channel, runs /join as the first, waits for voice Ready. */
export async function joinVoice(rig: Rig, memberIds: readonly string[]): Promise<void> {
  const { sim } = rig;
  for (const id of memberIds) sim.setVoiceState(sim.guild.id, id, sim.guild.voiceChannelId);
  const ready = sim.records.voiceReady.length;
  sim.injectInteraction({ userId: memberIds[0]!, name: 'join' });
  await sim.waitFor(() => sim.records.voiceReady.length > ready, 20_000, 'bot in voice');
}

/** Transcript lines (`**Name**: text`) posted in a channel (default: the guild's text channel), in order. */
export function transcriptLines(sim: DiscordSimulator, channelId = sim.guild.textChannelId): string[] {
  return sim.records.messages
    .filter((m) => m.channelId === channelId)
    .flatMap((m) => m.content.split('\n'))
    .filter((line) => line.startsWith('**'));
}

/** The final text of an interaction's answer (a direct reply, or the edit of a deferred one), once there is one. */
export function answerOf(sim: DiscordSimulator, interactionId: string, token: string): string | undefined {
  const direct = sim.records.interactionCallbacks.find((c) => c.interactionId === interactionId && c.type === 4);
  if (direct) return String(direct.data?.['content'] ?? '');
  const edit = sim.records.webhookMessages.find((w) => w.token === token && w.kind === 'editOriginal');
  return edit?.content;
}
