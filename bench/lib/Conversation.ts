import { setTimeout as sleep } from 'node:timers/promises';
import { dtmfPcm } from '../../test/sim/audio/index.js';
import type { DiscordSimulator } from '../../test/sim/discord/index.js';
import { Prng } from '../../test/sim/discord/prng.js';

/** A voice channel of the benchmark: its guild, text channel and the speakers (user id → expected display name). */
export interface BenchChannel {
  readonly guildId: string;
  readonly textChannelId: string;
  readonly voiceChannelId: string;
  readonly speakers: ReadonlyArray<{ readonly userId: string; readonly name: string }>;
}

/** One utterance spoken: who, where, the digits said, and how long it lasted. */
export interface Utterance {
  readonly guildId: string;
  readonly textChannelId: string;
  readonly userId: string;
  readonly name: string;
  readonly digits: string;
  readonly audioSeconds: number;
}

export interface TalkPattern {
  /** Talking stops starting new utterances after this long. */
  readonly durationMs: number;
  /** Pause before each utterance, uniform in [min, max] ms (overlapping turns: speakers run concurrently). */
  readonly pauseMs: readonly [number, number];
  /** Digits per utterance, uniform in [min, max]; at 120 ms tone + 200 ms gap, 12 digits ≈ 3.8 s of speech. */
  readonly digits: readonly [number, number];
  readonly seed: number;
}

/** Unique digit strings with no digit repeated back to back (the DTMF decoder needs a gap between equal digits). */
export class UtteranceTexts {
  private readonly used = new Set<string>();
  constructor(private readonly prng: Prng) {}

  /** A fresh string of `length` digits 0–9. */
  next(length: number): string {
    for (;;) {
      let s = '';
      for (let i = 0; i < length; i++) {
        let d: string;
        do d = String(this.prng.int(10));
        while (d === s[s.length - 1]);
        s += d;
      }
      if (!this.used.has(s)) {
        this.used.add(s);
        return s;
      }
    }
  }
}

/**
 * Every speaker of every channel talks in its own loop (so turns overlap), at real 20 ms pacing through the
 * simulator's voice UDP; resolves with what was said once the last utterance has been sent.
 */
export async function converse(sim: DiscordSimulator, channels: readonly BenchChannel[], pattern: TalkPattern, signal?: AbortSignal): Promise<Utterance[]> {
  const prng = new Prng(pattern.seed);
  const texts = new UtteranceTexts(prng);
  const said: Utterance[] = [];
  const deadline = performance.now() + pattern.durationMs;
  const between = (range: readonly [number, number]): number => range[0] + prng.int(range[1] - range[0] + 1);
  const loops = channels.flatMap((channel) =>
    channel.speakers.map(async (speaker, index) => {
      const voice = sim.speaker({ guildId: channel.guildId, userId: speaker.userId });
      for (let turn = 0; ; turn++) {
        await sleep(between(pattern.pauseMs), undefined, signal ? { signal } : {}).catch(() => undefined);
        if (signal?.aborted || performance.now() >= deadline) return;
        const digits = texts.next(between(pattern.digits));
        const pcm = dtmfPcm(digits, { toneMs: 120, gapMs: 200, leadMs: 60, trailMs: 60 });
        said.push({ guildId: channel.guildId, textChannelId: channel.textChannelId, userId: speaker.userId, name: speaker.name, digits, audioSeconds: pcm.length / 2 / 48_000 });
        await voice.play(pcm, { shape: 'mixed', seed: pattern.seed * 1000 + index * 100 + turn, keepPackets: false, ...(signal ? { signal } : {}) });
      }
    }),
  );
  await Promise.all(loops);
  return said;
}

/** One soak step: the next speaker (round robin) says one utterance. */
export async function sayOne(sim: DiscordSimulator, channel: BenchChannel, texts: UtteranceTexts, turn: number, digits: number): Promise<Utterance> {
  const speaker = channel.speakers[turn % channel.speakers.length]!;
  const text = texts.next(digits);
  const pcm = dtmfPcm(text, { toneMs: 120, gapMs: 200, leadMs: 60, trailMs: 60 });
  await sim.speaker({ guildId: channel.guildId, userId: speaker.userId }).play(pcm, { shape: 'mixed', seed: turn, keepPackets: false });
  return { guildId: channel.guildId, textChannelId: channel.textChannelId, userId: speaker.userId, name: speaker.name, digits: text, audioSeconds: pcm.length / 2 / 48_000 };
}

/** Posted transcript lines of a channel, as `{ name, digits }` (digits only: escaping differs between bots). */
export function postedLines(sim: DiscordSimulator, channelId: string): Array<{ name: string; digits: string }> {
  return sim.records.messages
    .filter((m) => m.channelId === channelId)
    .flatMap((m) => m.content.split('\n'))
    // A line that waited in the spool carries "_(said at HH:MM:SS UTC, delayed)_" after the name or the text.
    .map((line) => /^\*\*(.+?)\*\*: (.*)$/.exec(line.replace(/\s*_\(said at [^)]*\)_/g, '')))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[1]!, digits: m[2]!.replace(/[^0-9]/g, '') }));
}

/** How many utterances came back as a line with the right speaker and exactly their digits. */
export function countPosted(sim: DiscordSimulator, said: readonly Utterance[]): number {
  const byChannel = new Map<string, Set<string>>();
  for (const u of said) {
    if (!byChannel.has(u.textChannelId)) byChannel.set(u.textChannelId, new Set(postedLines(sim, u.textChannelId).map((l) => `${l.name}\u0000${l.digits}`)));
  }
  return said.filter((u) => byChannel.get(u.textChannelId)!.has(`${u.name}\u0000${u.digits}`)).length;
}
