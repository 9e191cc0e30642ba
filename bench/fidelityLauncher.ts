/**
 * Which bots the fidelity benchmark can run. tinyscribe is started by bench/fidelity.ts itself; the
 * discord.js baseline comes from bench/lib/launchBot.ts (issue #4), loaded at run time so this
 * benchmark builds and runs before that launcher exists, reporting its rows as "not measured".
 */
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { DiscordSimulator } from '../test/sim/discord/index.js';
import type { WhisperStandIn } from '../test/sim/whisper/WhisperStandIn.js';

export type BotImpl = 'tinyscribe' | 'baseline';

/** A running bot the benchmark can stop. */
export interface LaunchedBot {
  close(): Promise<void>;
}

export type BaselineLauncher =
  | { readonly available: true; readonly launch: (sim: DiscordSimulator, whisper: WhisperStandIn) => Promise<LaunchedBot> }
  | { readonly available: false; readonly reason: string };

/** The compiled launcher, next to this file's compiled form (dist/bench/lib/launchBot.js). */
const LAUNCHER_URL = new URL('./lib/launchBot.js', import.meta.url);

/** Loads bench/lib/launchBot's baseline launcher if it is there; says why not otherwise. */
export async function findBaselineLauncher(): Promise<BaselineLauncher> {
  try {
    await access(fileURLToPath(LAUNCHER_URL));
  } catch {
    return { available: false, reason: 'bench/lib/launchBot.ts (the discord.js baseline launcher, issue #4) is not in the tree yet' };
  }
  const module: unknown = await import(LAUNCHER_URL.href);
  const launchBot = (module as { launchBot?: unknown }).launchBot;
  if (typeof launchBot !== 'function') {
    return { available: false, reason: 'bench/lib/launchBot.js does not export launchBot()' };
  }
  return {
    available: false,
    reason: `bench/lib/launchBot.js exists but this benchmark does not drive it yet (${launchBot.length} parameters)`,
  };
}
