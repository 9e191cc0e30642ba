import { dtmfPcm } from '../sim/audio/index.js';
import { joinVoice, startRig, transcriptLines, type Rig } from '../e2e/rig.js';
import type { ReplayedImage } from './DockerfileReplay.js';
import { ReplayError } from './DockerfileReplay.js';

/** What one drive of a replayed image saw. */
export interface ImageCheckResult {
  readonly transcript: string;
  readonly healthStatus: number;
  readonly exitCode: number | null;
  readonly exitSignal: string | null;
  readonly ms: number;
}

/** The utterance the check speaks, and the line the bot must post for it. */
export const CHECK_DIGITS = '2468';
export const CHECK_LINE = `**Ally**: ${CHECK_DIGITS}`;

/**
 * Starts the image's CMD, as replayed, against the Discord simulator and the Whisper stand-in
 * (the bot is configured the way Fly configures it: the image's ENV plus secrets in the
 * environment); runs /join, lets one speaker say DTMF digits, waits for the transcript line and
 * a 200 from /healthz, then sends SIGTERM and requires exit code 0. No special mode in the bot:
 * everything is driven from outside. Throws ReplayError with the bot's log tail on any failure.
 */
export async function checkImage(image: ReplayedImage, timeoutMs = 20_000): Promise<ImageCheckResult> {
  const started = Date.now();
  let rig: Rig | undefined;
  try {
    rig = await startRig({
      waitReady: false,
      command: image.command,
      // DATA_DIR etc. come from the image's ENV; the health port is free-chosen so checks can run side by side.
      env: { ...image.env, HEALTH_PORT: '0', LOG_LEVEL: 'debug' },
    });
    const { sim, bot } = rig;
    // waitForLog fails at once if the process exits (a missing file, a dev-only import).
    await bot.waitForLog((l) => l.msg === 'gateway ready', timeoutMs);
    const listening = await bot.waitForLog((l) => l.msg === 'health listening' && typeof l.port === 'number', timeoutMs);
    await joinVoice(rig, [sim.members.alice]);
    await sim.speaker({ guildId: sim.guild.id, userId: sim.members.alice }).play(dtmfPcm(CHECK_DIGITS, { leadMs: 100 }));
    const transcript = await sim.waitFor(() => transcriptLines(sim).find((l) => l === CHECK_LINE), timeoutMs, `the line ${CHECK_LINE}`);
    const health = await fetch(`http://127.0.0.1:${String(listening.port)}/healthz`);
    await health.body?.cancel();
    const exit = await bot.stop('SIGTERM', timeoutMs);
    if (exit.code !== 0) throw new ReplayError('CHECK_EXIT', `the bot exited ${JSON.stringify(exit)} after SIGTERM:\n${bot.tail()}`);
    return { transcript, healthStatus: health.status, exitCode: exit.code, exitSignal: exit.signal, ms: Date.now() - started };
  } catch (error) {
    if (error instanceof ReplayError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ReplayError('CHECK_FAILED', `the replayed image did not transcribe and stop cleanly: ${message}\n${rig?.bot.tail() ?? ''}`, { cause: error });
  } finally {
    await rig?.close();
  }
}
