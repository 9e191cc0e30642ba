/**
 * Who says which LibriVox sentence when: simulated speakers read clips with natural pauses between
 * sentences, alone or talking over each other, through the Discord simulator's real RTP/Opus path.
 */
import type { DiscordSimulator } from '../discord/DiscordSimulator.js';
import type { PlayResult } from '../discord/SimSpeaker.js';
import type { LibrivoxClip } from './librivox.js';
import { loadClipPcm, upsample16kMonoTo48kStereo, LIBRIVOX_SAMPLE_RATE } from './librivox.js';

/** One sentence of a track: the clip, and how long the speaker is quiet (sends nothing) before it. */
export interface ScriptLine {
  readonly clipId: string;
  readonly pauseBeforeMs: number;
}

/** One speaker's part of a script. */
export interface ScriptTrack {
  /** Key into `sim.members` (alice, bob, carol). */
  readonly member: 'alice' | 'bob' | 'carol';
  /** How the bot names this member in transcript lines (`**Name**: …`). */
  readonly displayName: string;
  /** Wait this long after the script starts before the first line's pause. */
  readonly startDelayMs: number;
  readonly lines: readonly ScriptLine[];
}

/** Network conditions for every packet of a run (the simulator's speaker options). */
export interface NetworkConditions {
  readonly lossPercent: number;
  readonly jitterMs: number;
  /** Seed of loss/jitter/packet shapes; each line adds its index so lines differ. */
  readonly seed: number;
}

/** A clip as played: where on the speaker's RTP timeline it began. */
export interface PlayedLine {
  readonly clip: LibrivoxClip;
  /** 16 kHz mono original. */
  readonly pcm: Int16Array;
  /** Start of the clip's first frame on the track timeline (RTP time since the track's first frame), ms. */
  readonly startMs: number;
  readonly result: PlayResult;
}

/** One speaker's played track. */
export interface PlayedTrack {
  readonly track: ScriptTrack;
  readonly lines: readonly PlayedLine[];
  /** The track as a 16 kHz mono signal on its RTP timeline: the originals where they were played, zeros between. */
  readonly timeline: Int16Array;
}

/**
 * Pause lengths of read speech between sentences vary; these (0.6–2 s) straddle the bot's 1 s default
 * silence gap on purpose, so some sentences share a segment and others do not.
 */
export const ALONE_SCRIPT: readonly ScriptTrack[] = [
  {
    member: 'alice',
    displayName: 'Ally',
    startDelayMs: 0,
    lines: [
      { clipId: 'sense_and_sensibility_01_austen_64kb-0870', pauseBeforeMs: 0 },
      { clipId: 'sense_and_sensibility_01_austen_64kb-0880', pauseBeforeMs: 700 },
      { clipId: 'sense_and_sensibility_01_austen_64kb-0890', pauseBeforeMs: 1_500 },
      { clipId: 'sense_and_sensibility_01_austen_64kb-0920', pauseBeforeMs: 900 },
      { clipId: 'sense_and_sensibility_01_austen_64kb-0930', pauseBeforeMs: 2_000 },
    ],
  },
];

/** Two speakers talking over each other: every clip once, Bobby starting while Ally is mid-sentence. */
export const OVERLAP_SCRIPT: readonly ScriptTrack[] = [
  {
    member: 'alice',
    displayName: 'Ally',
    startDelayMs: 0,
    lines: [
      { clipId: 'sense_and_sensibility_01_austen_64kb-0870', pauseBeforeMs: 0 },
      { clipId: 'sense_and_sensibility_01_austen_64kb-0890', pauseBeforeMs: 700 },
      { clipId: 'sense_and_sensibility_01_austen_64kb-0930', pauseBeforeMs: 1_500 },
    ],
  },
  {
    member: 'bob',
    displayName: 'Bobby Tables',
    startDelayMs: 2_500,
    lines: [
      { clipId: 'sense_and_sensibility_01_austen_64kb-0880', pauseBeforeMs: 0 },
      { clipId: 'sense_and_sensibility_01_austen_64kb-0920', pauseBeforeMs: 1_200 },
    ],
  },
];

/** Clip ids a script needs. */
export function scriptClipIds(script: readonly ScriptTrack[]): string[] {
  return [...new Set(script.flatMap((t) => t.lines.map((l) => l.clipId)))];
}

/**
 * Plays a script on the simulator (speakers in parallel, each line at real 20 ms pacing, Opus,
 * 48 kHz stereo, "mixed" packet shapes like real clients) and returns what was played where. The bot
 * must already be in the voice channel with the members in it.
 */
export async function playSpeechScript(
  sim: DiscordSimulator,
  script: readonly ScriptTrack[],
  clips: readonly LibrivoxClip[],
  network: NetworkConditions,
): Promise<PlayedTrack[]> {
  const byId = new Map(clips.map((c) => [c.id, c]));
  const pcmById = new Map<string, { pcm: Int16Array; stereo48k: Int16Array }>();
  for (const id of scriptClipIds(script)) {
    const clip = byId.get(id);
    if (!clip) throw new Error(`script needs clip ${id}, which is not installed`);
    const pcm = await loadClipPcm(clip);
    pcmById.set(id, { pcm, stereo48k: upsample16kMonoTo48kStereo(pcm) });
  }
  let lineSeed = network.seed;
  return Promise.all(
    script.map(async (track): Promise<PlayedTrack> => {
      const seeds = track.lines.map(() => lineSeed++);
      const speaker = sim.speaker({ guildId: sim.guild.id, userId: sim.members[track.member] });
      await sleep(track.startDelayMs);
      const played: PlayedLine[] = [];
      let firstTimestamp: number | undefined;
      for (let i = 0; i < track.lines.length; i++) {
        const line = track.lines[i]!;
        await sleep(line.pauseBeforeMs);
        const { pcm, stereo48k } = pcmById.get(line.clipId)!;
        const result = await speaker.play(stereo48k, {
          shape: 'mixed',
          seed: seeds[i]!,
          ...(network.lossPercent > 0 ? { lossPercent: network.lossPercent } : {}),
          ...(network.jitterMs > 0 ? { jitterMs: network.jitterMs } : {}),
        });
        const timestamp = result.packets[0]!.timestamp;
        firstTimestamp ??= timestamp;
        // The RTP timeline is what the bot's segmenter follows; 48 ticks per ms, u32 wrap-safe.
        const startMs = ((timestamp - firstTimestamp) >>> 0) / 48;
        played.push({ clip: byId.get(line.clipId)!, pcm, startMs, result });
      }
      return { track, lines: played, timeline: buildTimeline(played) };
    }),
  );
}

/** The played originals placed at their RTP start times on one 16 kHz mono signal. */
function buildTimeline(lines: readonly PlayedLine[]): Int16Array {
  const samplesPerMs = LIBRIVOX_SAMPLE_RATE / 1000;
  let length = 0;
  for (const l of lines) length = Math.max(length, Math.round(l.startMs * samplesPerMs) + l.pcm.length);
  const timeline = new Int16Array(length);
  for (const l of lines) timeline.set(l.pcm, Math.round(l.startMs * samplesPerMs));
  return timeline;
}

function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
