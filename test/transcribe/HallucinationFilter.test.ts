import { describe, expect, it } from 'vitest';
import { HallucinationFilter, normalizeForMatch } from '../../src/transcribe/HallucinationFilter.js';
import { HALLUCINATION_PHRASES } from '../../src/transcribe/hallucinations.js';

// A clear, loud, long-enough segment: only empty output or annotations may be dropped.
const strong = { durationMs: 3000, rmsDbfs: -18, speechMs: 2500 };
const short = { durationMs: 900, rmsDbfs: -18, speechMs: 700 };
const quiet = { durationMs: 3000, rmsDbfs: -42, speechMs: 2500 };
const noSpeech = { durationMs: 3000, rmsDbfs: -18, speechMs: 2500, noSpeechProb: 0.83 };

describe('normalizeForMatch', () => {
  it('folds case, punctuation, spacing, accents and full width', () => {
    expect(normalizeForMatch('  THANK   you!! ')).toBe('thankyou');
    expect(normalizeForMatch('ｔｈａｎｋ　ｙｏｕ。')).toBe('thankyou');
    expect(normalizeForMatch('Sottotitoli creati dalla comunità Amara.org')).toBe(
      normalizeForMatch('sottotitoli creati dalla comunita amara org'),
    );
    expect(normalizeForMatch('ご視聴 ありがとう ございました！')).toBe(normalizeForMatch('ご視聴ありがとうございました'));
  });
});

describe('HallucinationFilter', () => {
  const filter = new HallucinationFilter();

  it('drops empty and whitespace/punctuation-only output whatever the audio', () => {
    expect(filter.reason('', strong)).toBe('empty');
    expect(filter.reason(' \n\t ', strong)).toBe('empty');
    expect(filter.reason('...', strong)).toBe('empty');
    expect(filter.isHallucination('♪', strong)).toBe(true);
  });

  it('drops output made only of bracketed sound annotations', () => {
    expect(filter.reason('[BLANK_AUDIO]', strong)).toBe('annotation');
    expect(filter.reason(' [Music] (applause) ', strong)).toBe('annotation');
    expect(filter.reason('[Music] hello there', strong)).toBeNull();
  });

  it('drops a known phrase on a short segment', () => {
    expect(filter.reason('Thank you.', short)).toBe('phrase');
    expect(filter.reason('Thanks for watching!', short)).toBe('phrase');
    expect(filter.reason(' you', short)).toBe('phrase');
  });

  it('drops a known phrase on a quiet segment', () => {
    expect(filter.reason('Subtitles by the Amara.org community', quiet)).toBe('phrase');
    expect(filter.reason('Продолжение следует...', quiet)).toBe('phrase');
  });

  it('drops a known phrase when the server says there was no speech', () => {
    expect(filter.reason('ご視聴ありがとうございました', noSpeech)).toBe('phrase');
    expect(filter.reason('ご視聴ありがとうございました', { ...noSpeech, noSpeechProb: 0.2 })).toBeNull();
  });

  it('keeps a clear, loud, long-enough "thank you"', () => {
    expect(filter.reason('Thank you.', strong)).toBeNull();
    expect(filter.isHallucination('Thank you for watching', strong)).toBe(false);
  });

  it('ignores NaN no_speech_prob', () => {
    expect(filter.reason('Thank you.', { ...strong, noSpeechProb: Number.NaN })).toBeNull();
  });

  it('matches the whole output only, possibly repeated or chained', () => {
    expect(filter.reason('Thank you. Thank you. Thank you.', short)).toBe('phrase');
    expect(filter.reason('Thank you. Thanks for watching!', short)).toBe('phrase');
    expect(filter.reason('ありがとうございました。ありがとうございました。', quiet)).toBe('phrase');
    expect(filter.reason('Thank you, see you tomorrow.', short)).toBeNull();
    expect(filter.reason('I said thank you', short)).toBeNull();
    expect(filter.reason('youth', short)).toBeNull();
  });

  it('matches case, width and punctuation variants', () => {
    expect(filter.reason('THANK YOU!!!', short)).toBe('phrase');
    expect(filter.reason('Ｔｈａｎｋ ｙｏｕ．', short)).toBe('phrase');
    expect(filter.reason('sottotitoli creati dalla comunita amara org', quiet)).toBe('phrase');
  });

  it('knows each language group of the default list', () => {
    const languages = HALLUCINATION_PHRASES.map((g) => g.language);
    expect(languages).toEqual(expect.arrayContaining(['en', 'it', 'ru', 'ja', 'zh', 'ko', 'de', 'fr', 'es', 'pt']));
    for (const group of HALLUCINATION_PHRASES) {
      for (const phrase of group.phrases) expect(filter.reason(phrase, short), `${group.language}: ${phrase}`).toBe('phrase');
    }
  });

  it('uses a caller-supplied phrase list and thresholds', () => {
    const custom = new HallucinationFilter({
      phrases: [{ language: 'en', phrases: ['Bye.'] }],
      minSpeechMs: 500,
      quietDbfs: -50,
      noSpeechProbThreshold: 0.9,
    });
    expect(custom.reason('bye', { durationMs: 400, rmsDbfs: -20, speechMs: 400 })).toBe('phrase');
    expect(custom.reason('bye', short)).toBeNull(); // 700 ms of speech is enough now
    expect(custom.reason('bye', quiet)).toBeNull(); // −42 dBFS is loud enough now
    expect(custom.reason('bye', noSpeech)).toBeNull(); // 0.83 is below 0.9
    expect(custom.reason('Thank you.', short)).toBeNull(); // not in the custom list
  });
});
