import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TranscriptFile, findLeftoverTranscripts } from '../../src/transcribe/TranscriptFile.js';
import { writeFileSync, readdirSync } from 'node:fs';
import { groupIntoMessages, splitAttachment } from '../../src/transcribe/transcriptAttachments.js';
import { clockOffset, srtTimestamp } from '../../src/transcribe/srt.js';
import { createLogger } from '../../src/util/logger.js';

const logger = createLogger({ level: 'silent' });
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('transcript times', () => {
  it('formats offsets as hh:mm:ss and SRT hh:mm:ss,mmm, hours past 24 included', () => {
    expect(clockOffset(0)).toBe('00:00:00');
    expect(clockOffset(3_723_999)).toBe('01:02:03');
    expect(clockOffset(25 * 3_600_000)).toBe('25:00:00');
    expect(srtTimestamp(3_723_045)).toBe('01:02:03,045');
    expect(srtTimestamp(-5)).toBe('00:00:00,000');
  });
});

describe('TranscriptFile', () => {
  it('appends txt lines and SRT cues timed from the session start, and reads them back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinyscribe-transcript-'));
    dirs.push(dir);
    const start = Date.UTC(2026, 0, 1, 12, 0, 0);
    const file = new TranscriptFile(dir, 'sess', start, logger);
    file.append({ startedAt: start + 1_500, durationMs: 2_250, name: 'Ally', text: ' hello **there** @everyone ' });
    file.append({ startedAt: start + 3_661_000, durationMs: 1_000, name: 'Bobby Tables', text: 'two\nlines' });
    const { lines, txt, srt } = await file.finish();
    expect(lines).toBe(2);
    expect(txt.toString()).toBe('[00:00:01] Ally: hello **there** @everyone\n[01:01:01] Bobby Tables: two lines\n');
    expect(srt.toString()).toBe(
      '1\n00:00:01,500 --> 00:00:03,750\nAlly: hello **there** @everyone\n\n' +
        '2\n01:01:01,000 --> 01:01:02,000\nBobby Tables: two lines\n\n',
    );
    expect(existsSync(join(dir, 'sess.txt'))).toBe(true);
    await file.remove();
    expect(existsSync(join(dir, 'sess.txt'))).toBe(false);
    expect(existsSync(join(dir, 'sess.srt'))).toBe(false);
  });

  it('gives empty files when nothing was said', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinyscribe-transcript-'));
    dirs.push(dir);
    const { lines, txt, srt } = await new TranscriptFile(join(dir, 'sub'), 'quiet', 0, logger).finish();
    expect([lines, txt.length, srt.length]).toEqual([0, 0, 0]);
  });
});

describe('splitAttachment / groupIntoMessages', () => {
  it('keeps a file that fits, and cuts a large one at record boundaries without losing a byte', () => {
    const small = { name: 'transcript.txt', data: Buffer.from('a\nb\n') };
    expect(splitAttachment(small, 100, '\n')).toEqual([small]);

    const text = Array.from({ length: 50 }, (_, i) => `[00:00:${String(i).padStart(2, '0')}] Ally: line ${i}\n`).join('');
    const parts = splitAttachment({ name: 'transcript.txt', data: Buffer.from(text) }, 100, '\n');
    expect(parts.length).toBeGreaterThan(5);
    expect(parts.map((p) => p.name).slice(0, 2)).toEqual(['transcript.part1.txt', 'transcript.part2.txt']);
    for (const p of parts) {
      expect(p.data.length).toBeLessThanOrEqual(100);
      expect(p.data.toString().endsWith('\n')).toBe(true);
    }
    expect(Buffer.concat(parts.map((p) => p.data)).toString()).toBe(text);
  });

  it('splits SRT between cues and cuts a record longer than the limit hard', () => {
    const srt = '1\nA\nx\n\n2\nB\ny\n\n3\nC\nz\n\n';
    const parts = splitAttachment({ name: 'transcript.srt', data: Buffer.from(srt) }, 16, '\n\n');
    expect(parts.map((p) => p.data.toString())).toEqual(['1\nA\nx\n\n2\nB\ny\n\n', '3\nC\nz\n\n']);
    const long = splitAttachment({ name: 'x.txt', data: Buffer.alloc(25, 97) }, 10, '\n');
    expect(long.map((p) => p.data.length)).toEqual([10, 10, 5]);
  });

  it('groups files into messages within the byte limit and 10 files each', () => {
    const f = (n: number) => ({ name: `${n}`, data: Buffer.alloc(n) });
    expect(groupIntoMessages([f(40), f(50), f(20)], 100).map((m) => m.map((x) => x.name))).toEqual([['40', '50'], ['20']]);
    expect(groupIntoMessages(Array.from({ length: 12 }, () => f(1)), 100).map((m) => m.length)).toEqual([10, 2]);
  });
});

describe('findLeftoverTranscripts', () => {
  it('finds a transcript with its owner, counts its lines, removes it; skips an unreadable owner', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinyscribe-leftover-'));
    dirs.push(dir);
    const owner = { guildId: '11', voiceChannelId: '22', textChannelId: '33', attachmentLimit: 500 };
    const file = new TranscriptFile(dir, 'crashed', 0, logger, owner);
    file.append({ startedAt: 1_000, durationMs: 500, name: 'Ally', text: 'one' });
    file.append({ startedAt: 2_000, durationMs: 500, name: 'Ally', text: 'two' });
    await file.finish();
    writeFileSync(join(dir, 'broken.json'), '{"guildId": 5');

    const found = await findLeftoverTranscripts(dir, logger);
    expect(found).toHaveLength(1);
    expect(found[0]!.owner).toEqual(owner);
    expect(found[0]!.files.lines).toBe(2);
    expect(found[0]!.files.txt.toString()).toBe('[00:00:01] Ally: one\n[00:00:02] Ally: two\n');
    await found[0]!.remove();
    expect(readdirSync(dir)).toEqual(['broken.json']);
    expect(await findLeftoverTranscripts(join(dir, 'missing'), logger)).toEqual([]);
  });
});
