import { API } from '@discordjs/core';
import { REST } from '@discordjs/rest';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/util/Clock.js';
import { DiscordSimulator } from '../sim/discord/index.js';
import { ChannelPoster, MAX_MESSAGE_CHARS, type ChannelPosterOptions } from '../../src/transcribe/ChannelPoster.js';
import { withNamePrefix } from '../../src/transcribe/formatLine.js';
import { createLogger } from '../../src/util/logger.js';
import { Metrics } from '../../src/util/Metrics.js';
import { ManualClock } from '../util/ManualClock.js';

interface SendCall {
  readonly channelId: string;
  readonly content: string;
  /** ManualClock time when send() was called. */
  readonly at: number;
  /** Whether this attempt succeeded (set when it settles). */
  ok?: boolean;
}

interface HarnessOptions extends Partial<Pick<ChannelPosterOptions, 'minIntervalMs' | 'maxQueuedLines' | 'maxAttempts'>> {
  /** How long (clock time) a send takes before it resolves or rejects, per channel. */
  latencyMs?: (channelId: string) => number;
  /** Decides whether an attempt fails; `attempt` counts calls for this channel from 1. */
  fails?: (channelId: string, attempt: number, content: string) => boolean;
}

function harness(options: HarnessOptions = {}) {
  const clock = new ManualClock();
  const start = clock.now();
  const metrics = new Metrics();
  const logs: string[] = [];
  const calls: SendCall[] = [];
  const attempts = new Map<string, number>();
  const send = async (channelId: string, content: string): Promise<void> => {
    const call: SendCall = { channelId, content, at: clock.now() - start };
    calls.push(call);
    const attempt = (attempts.get(channelId) ?? 0) + 1;
    attempts.set(channelId, attempt);
    const latency = options.latencyMs?.(channelId) ?? 0;
    if (latency > 0) await new Promise<void>((resolve) => clock.setTimeout(resolve, latency));
    if (options.fails?.(channelId, attempt, content)) {
      call.ok = false;
      throw new Error(`Missing Access (attempt ${attempt})`);
    }
    call.ok = true;
  };
  const poster = new ChannelPoster({
    send,
    clock,
    metrics,
    logger: createLogger({ level: 'debug', write: (line) => logs.push(line) }),
    ...(options.minIntervalMs !== undefined ? { minIntervalMs: options.minIntervalMs } : {}),
    ...(options.maxQueuedLines !== undefined ? { maxQueuedLines: options.maxQueuedLines } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
  });

  /** Lets promise continuations (send results, flush) run. */
  const drain = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  /** Moves the clock forward in small steps, letting async work run after each. */
  const run = async (ms: number, step = 10): Promise<void> => {
    for (let done = 0; done < ms; done += step) {
      clock.advance(Math.min(step, ms - done));
      await drain();
    }
  };
  /** Lines that reached the channel, in the order they were delivered. */
  const delivered = (channelId: string): string[] =>
    calls.filter((c) => c.channelId === channelId && c.ok === true).flatMap((c) => c.content.split('\n'));
  const callsTo = (channelId: string): SendCall[] => calls.filter((c) => c.channelId === channelId);
  return { clock, start, metrics, logs, calls, poster, drain, run, delivered, callsTo };
}

/** Asserts that consecutive send calls to one channel are at least `minIntervalMs` apart. */
function expectSpaced(calls: readonly SendCall[], minIntervalMs: number): void {
  for (let i = 1; i < calls.length; i++) {
    const gap = calls[i]!.at - calls[i - 1]!.at;
    expect(gap, `gap between send ${i - 1} at ${calls[i - 1]!.at} ms and send ${i} at ${calls[i]!.at} ms`).toBeGreaterThanOrEqual(minIntervalMs);
  }
}

/** Deterministic pseudo-random numbers in [0, 1) (LCG) so a burst is irregular but repeatable. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A transcript line of a given length, unique by index. */
function line(index: number, length: number): string {
  const head = `[${String(index).padStart(2, '0')}] Alice: `;
  return (head + 'word '.repeat(Math.ceil(length / 5))).slice(0, Math.max(length, head.length)).trimEnd();
}

describe('ChannelPoster', () => {
  it.each([
    { name: 'instant sends', latency: 0, seed: 1 },
    { name: 'sends taking 250 ms', latency: 250, seed: 2 },
    { name: 'sends taking 1.5 s', latency: 1500, seed: 3 },
  ])('delivers a burst of 50 lines in 5 s once, in order, spaced and split ($name)', async ({ latency, seed }) => {
    const minIntervalMs = 1000;
    const h = harness({ minIntervalMs, latencyMs: () => latency });
    const random = lcg(seed);
    // 50 arrival times in [0, 5000), irregular: some clustered, some with gaps longer than the interval.
    const times = Array.from({ length: 50 }, () => Math.floor(random() * 5000)).sort((a, b) => a - b);
    const lines = times.map((_, i) => line(i, 20 + Math.floor(random() * 700)));
    let elapsed = 0;
    for (let i = 0; i < lines.length; i++) {
      await h.run(times[i]! - elapsed);
      elapsed = times[i]!;
      h.poster.post('text-1', lines[i]!);
    }
    const idle = h.poster.idle();
    await h.run(30_000, 50);
    await idle;

    expect(h.delivered('text-1')).toEqual(lines);
    expect(h.calls.every((c) => c.ok === true)).toBe(true);
    for (const call of h.calls) expect(call.content.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    expectSpaced(h.callsTo('text-1'), minIntervalMs);
    // Batching actually happened: far fewer messages than lines, as many as the rate and size limits allow.
    expect(h.calls.length).toBeLessThan(lines.length);
    expect(h.metrics.get('posts_sent_total')).toBe(h.calls.length);
    expect(h.metrics.get('posts_failed_total')).toBe(0);
    expect(h.poster.pendingLines).toBe(0);
  });

  it('fills each message with as many whole lines as fit in 2,000 characters', async () => {
    const h = harness({ minIntervalMs: 1000 });
    const lines = Array.from({ length: 20 }, (_, i) => line(i, 300));
    for (const l of lines) h.poster.post('text-1', l);
    await h.run(10_000, 100);
    // 6 × 300 + 5 newlines = 1,805 fits; a 7th line would make 2,106.
    expect(h.calls.map((c) => c.content.split('\n').length)).toEqual([6, 6, 6, 2]);
    expect(h.delivered('text-1')).toEqual(lines);
    for (const call of h.calls) expect(call.content.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
  });

  it('cuts a single line longer than 2,000 characters to fit one message', async () => {
    const h = harness();
    const long = 'x'.repeat(5000);
    h.poster.post('text-1', long);
    h.poster.post('text-1', 'after');
    await h.run(5000, 100);
    expect(h.calls.map((c) => c.content.length)).toEqual([MAX_MESSAGE_CHARS, 'after'.length]);
    expect(h.calls[0]!.content.endsWith('…')).toBe(true);
    expect(h.calls[0]!.content.startsWith('x'.repeat(1999))).toBe(true);
  });

  it('sends the first line at once, and a line that follows a drained queue only after the interval', async () => {
    const h = harness({ minIntervalMs: 1000 });
    h.poster.post('text-1', 'one');
    await h.run(10);
    expect(h.calls.map((c) => c.at)).toEqual([0]);
    // The queue is empty again; the next line must still respect the interval.
    await h.run(90);
    h.poster.post('text-1', 'two');
    await h.run(2000);
    // Long after the interval, a new line goes out at once again.
    h.poster.post('text-1', 'three');
    await h.run(2000);
    expect(h.delivered('text-1')).toEqual(['one', 'two', 'three']);
    expectSpaced(h.calls, 1000);
    // "two" waits for the interval (measured from when "one" finished, within one 10 ms step), not longer.
    expect(h.calls[1]!.at).toBeLessThanOrEqual(1010);
    expect(h.calls[2]!.at).toBe(2100);
  });

  it('keeps channels independent: each has its own pace, and a slow channel does not hold up another', async () => {
    const minIntervalMs = 1000;
    // text-slow takes 4 s per send; text-fast answers at once.
    const h = harness({ minIntervalMs, latencyMs: (channelId) => (channelId === 'text-slow' ? 4000 : 0) });
    const fast: string[] = [];
    const slow: string[] = [];
    for (let i = 0; i < 30; i++) {
      const f = `fast ${i}`;
      const s = `slow ${i}`;
      fast.push(f);
      slow.push(s);
      h.poster.post('text-fast', f);
      h.poster.post('text-slow', s);
      await h.run(200);
    }
    // Both channels started at once rather than one after the other.
    expect(h.callsTo('text-fast')[0]!.at).toBe(0);
    expect(h.callsTo('text-slow')[0]!.at).toBe(0);
    // While text-slow had at most two sends under way, text-fast kept posting at its own pace.
    expect(h.callsTo('text-fast').length).toBeGreaterThanOrEqual(5);
    expect(h.callsTo('text-slow').length).toBeLessThanOrEqual(2);
    await h.run(30_000, 100);
    await h.poster.idle();
    expect(h.delivered('text-fast')).toEqual(fast);
    expect(h.delivered('text-slow')).toEqual(slow);
    expectSpaced(h.callsTo('text-fast'), minIntervalMs);
    expectSpaced(h.callsTo('text-slow'), minIntervalMs);
  });

  it('retries a failed send, spaced by the interval, and delivers it once', async () => {
    const h = harness({ minIntervalMs: 1000, maxAttempts: 3, fails: (_channel, attempt) => attempt === 1 });
    h.poster.post('text-1', 'hello');
    await h.run(5000);
    expect(h.calls.map((c) => [c.content, c.ok])).toEqual([
      ['hello', false],
      ['hello', true],
    ]);
    expect(h.delivered('text-1')).toEqual(['hello']);
    expectSpaced(h.calls, 1000);
    expect(h.metrics.get('posts_sent_total')).toBe(1);
    expect(h.metrics.get('posts_failed_total')).toBe(0);
  });

  it('gives a message up after maxAttempts, counts it, and goes on with the next lines', async () => {
    const h = harness({
      minIntervalMs: 1000,
      maxAttempts: 3,
      fails: (_channel, _attempt, content) => content.includes('doomed'),
    });
    const doomedResult = h.poster.post('text-1', 'doomed line');
    await h.run(10);
    const nextResult = h.poster.post('text-1', 'next line');
    const idle = h.poster.idle();
    await h.run(10_000);
    await idle;
    // Not a 4xx from Discord: the line might go through later, so a caller that still has it may try again.
    expect([await doomedResult, await nextResult]).toEqual(['failed', 'sent']);
    const doomed = h.calls.filter((c) => c.content === 'doomed line');
    expect(doomed).toHaveLength(3);
    expect(doomed.every((c) => c.ok === false)).toBe(true);
    expect(h.metrics.get('posts_failed_total')).toBe(1);
    expect(h.metrics.get('posts_sent_total')).toBe(1);
    expect(h.delivered('text-1')).toEqual(['next line']);
    // Retrying at once would hammer a channel that just refused us; every attempt keeps the pace.
    expectSpaced(h.calls, 1000);
    const errors = h.logs.map((l) => JSON.parse(l) as { level: string; channelId?: string }).filter((r) => r.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.channelId).toBe('text-1');
  });

  it('idle() resolves at once when nothing is queued, and only after the last send otherwise', async () => {
    const h = harness({ minIntervalMs: 1000, latencyMs: () => 300 });
    await h.poster.idle();
    for (let i = 0; i < 5; i++) h.poster.post('text-1', line(i, 700));
    h.poster.post('text-2', 'other channel');
    let resolved = false;
    void h.poster.idle().then(() => {
      resolved = true;
    });
    await h.run(1000);
    expect(resolved).toBe(false);
    expect(h.poster.pendingLines).toBeGreaterThan(0);
    // 5 lines of 700 characters need 3 messages (2 + 2 + 1): at 0, 1300 and 2600 ms, each taking 300 ms.
    await h.run(1800);
    expect(resolved).toBe(false);
    await h.run(200);
    expect(resolved).toBe(true);
    expect(h.poster.pendingLines).toBe(0);
    expect(h.callsTo('text-1').map((c) => c.at)).toEqual([0, 1300, 2600]);
  });

  it('resolves each line once the message that carries it is accepted, not when it is queued', async () => {
    const h = harness({ minIntervalMs: 1000, latencyMs: () => 300, fails: (_channel, attempt) => attempt === 1 });
    const settled: string[] = [];
    const track = (name: string, result: Promise<string>) => void result.then((r) => settled.push(`${name}:${r}`));
    track('a', h.poster.post('text-1', 'a'));
    track('b', h.poster.post('text-1', 'b'));
    // Attempt 1 (a + b in one message) fails at 300 ms; the retry starts at 1300 ms and is accepted at 1600 ms.
    await h.run(1550);
    expect(settled).toEqual([]);
    await h.run(100);
    expect(settled).toEqual(['a:sent', 'b:sent']);
    expect(h.calls.map((c) => [c.content, c.ok])).toEqual([
      ['a\nb', false],
      ['a\nb', true],
    ]);
  });

  it('drops the oldest lines beyond maxQueuedLines and counts them', async () => {
    const h = harness({ minIntervalMs: 1000, maxQueuedLines: 5 });
    const lines = Array.from({ length: 12 }, (_, i) => `line ${i}`);
    const results = lines.map((l) => h.poster.post('text-1', l));
    expect(h.poster.pendingLines).toBe(5);
    expect(h.metrics.get('posts_dropped_lines_total')).toBe(7);
    await h.run(5000);
    expect(h.delivered('text-1')).toEqual(lines.slice(7));
    expect(await Promise.all(results)).toEqual([...Array<string>(7).fill('failed'), ...Array<string>(5).fill('sent')]);
    expect(h.calls).toHaveLength(1);
  });

  it('bounds the queue while a send is under way, too', async () => {
    const h = harness({ minIntervalMs: 1000, maxQueuedLines: 3, latencyMs: () => 2000 });
    h.poster.post('text-1', 'first');
    await h.run(10); // "first" is now being sent
    for (let i = 0; i < 10; i++) h.poster.post('text-1', `later ${i}`);
    expect(h.poster.pendingLines).toBe(3);
    expect(h.metrics.get('posts_dropped_lines_total')).toBe(7);
    await h.run(10_000);
    expect(h.delivered('text-1')).toEqual(['first', 'later 7', 'later 8', 'later 9']);
  });
});

describe('ChannelPoster against the Discord simulator (real @discordjs/rest)', () => {
  it('posts a burst of 50 lines in 5 s with every line delivered once, in order, and no 429 loop', async () => {
    const sim = await DiscordSimulator.start();
    const rest = new REST({ version: '10', api: sim.apiUrl }).setToken(sim.token);
    try {
      const api = new API(rest);
      const poster = new ChannelPoster({
        send: async (channelId, content) => void (await api.channels.createMessage(channelId, { content, allowed_mentions: { parse: [] } })),
        clock: systemClock,
        metrics: new Metrics(),
        logger: createLogger({ level: 'silent' }),
      });
      // Discord pushes back once, as it may under load: the poster must keep its pace, not retry in a loop.
      sim.rateLimitNext(/^POST \/channels\/\d+\/messages$/, 1, 1);
      const channel = sim.guild.textChannelId;
      const sent: string[] = [];
      for (let i = 0; i < 50; i++) {
        const text = `**Ally**: line ${i} @everyone`;
        sent.push(text);
        poster.post(channel, text);
        await new Promise((r) => setTimeout(r, 100));
      }
      await poster.idle();
      const posts = sim.records.rest.filter((r) => r.method === 'POST' && r.route === '/channels/:channelId/messages');
      const limited = posts.filter((r) => r.status === 429);
      expect(limited).toHaveLength(1);
      const delivered = sim.records.messages.filter((m) => m.channelId === channel).flatMap((m) => m.content.split('\n'));
      expect(delivered).toEqual(sent);
      // ~1 message per 1.1 s over ~6 s: merged, not one message per line.
      const messages = posts.filter((r) => r.status === 200);
      expect(messages.length).toBeLessThanOrEqual(9);
      for (let i = 1; i < messages.length; i++) expect(messages[i]!.at - messages[i - 1]!.at).toBeGreaterThan(900);
      for (const m of sim.records.messages) expect(m.allowedMentions).toEqual({ parse: [] });
    } finally {
      rest.clearHashSweeper();
      rest.clearHandlerSweeper();
      await sim.close();
    }
  }, 30_000);
});

describe('ChannelPoster in webhook mode falling back to plain messages (simulator, real @discordjs/rest)', () => {
  /** The poster wired as main.ts wires it when the channel has no webhook: each line gets `**Name**: ` back. */
  async function plainFallbackRig() {
    const sim = await DiscordSimulator.start();
    const rest = new REST({ version: '10', api: sim.apiUrl, retries: 0 }).setToken(sim.token);
    const api = new API(rest);
    const metrics = new Metrics();
    const errors: Record<string, unknown>[] = [];
    const poster = new ChannelPoster({
      send: async (channelId, content, author) => {
        const plain = author ? withNamePrefix(author.name, content) : content;
        await api.channels.createMessage(channelId, { content: plain, allowed_mentions: { parse: [] } });
      },
      clock: systemClock,
      metrics,
      minIntervalMs: 50,
      logger: createLogger({ level: 'error', write: (line) => errors.push(JSON.parse(line) as Record<string, unknown>) }),
    });
    const close = async (): Promise<void> => {
      rest.clearHashSweeper();
      rest.clearHandlerSweeper();
      await sim.close();
    };
    const posts = () => sim.records.rest.filter((r) => r.method === 'POST' && r.route === '/channels/:channelId/messages');
    return { sim, poster, metrics, errors, posts, close };
  }

  it('batches authored lines so that the prefixed message still fits 2,000 characters', async () => {
    const rig = await plainFallbackRig();
    try {
      const channel = rig.sim.guild.textChannelId;
      const author = { name: 'Ally' };
      // Three 660-character lines fit 2,000 unprefixed (1,982) but not with `**Ally**: ` before each (2,012).
      const texts = ['11', '22', '33', '44'].map((d) => `${d} ${'and then we talked about it again '.repeat(19)}`.slice(0, 660));
      for (const text of texts) rig.poster.post(channel, text, author);
      // A single line as long as a message may be: cut so that it fits with its prefix, too.
      rig.poster.post(channel, 'y'.repeat(3000), author);
      await rig.poster.idle();
      expect(rig.posts().map((r) => r.status).every((s) => s === 200)).toBe(true);
      const messages = rig.sim.records.messages.filter((m) => m.channelId === channel);
      for (const m of messages) expect(m.content.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
      const lines = messages.flatMap((m) => m.content.split('\n'));
      expect(lines.slice(0, 4)).toEqual(texts.map((t) => `**Ally**: ${t}`));
      expect(lines[4]).toMatch(/^\*\*Ally\*\*: y+…$/);
      expect(lines[4]).toHaveLength(MAX_MESSAGE_CHARS);
      expect(rig.metrics.get('posts_failed_total')).toBe(0);
    } finally {
      await rig.close();
    }
  }, 20_000);

  it('does not retry a message Discord refused with a 400, counts it, and goes on with the next one', async () => {
    const rig = await plainFallbackRig();
    try {
      const channel = rig.sim.guild.textChannelId;
      rig.sim.failNext(/^\/channels\/\d+\/messages$/, 400, { code: 50035, message: 'Invalid Form Body' });
      const refused = rig.poster.post(channel, 'refused');
      await rig.poster.idle();
      const next = rig.poster.post(channel, 'next');
      await rig.poster.idle();
      expect([await refused, await next]).toEqual(['refused', 'sent']);
      expect(rig.posts().map((r) => r.status)).toEqual([400, 200]);
      expect(rig.sim.records.messages.map((m) => m.content)).toEqual(['next']);
      expect(rig.metrics.get('posts_failed_total')).toBe(1);
      expect(rig.errors.find((l) => l.msg === 'could not post transcript lines')).toMatchObject({ attempts: 1, permanent: true });
    } finally {
      await rig.close();
    }
  }, 20_000);
});
