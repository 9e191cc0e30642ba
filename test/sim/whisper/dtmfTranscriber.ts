import { decodeDtmf } from '../audio/dtmf.js';
import type { TranscribeFn } from './types.js';

/** Whisper's own "this was silence" threshold; the DTMF backend reports well below/above it. */
const SPEECH_NO_SPEECH_PROB = 0.02;
const SILENCE_NO_SPEECH_PROB = 0.9;

/**
 * The stand-in's default backend: the transcript is exactly the DTMF digits in the audio, and
 * no_speech_prob says whether there were any, so tests can assert what the bot really delivered.
 */
export const dtmfTranscriber: TranscribeFn = async (pcm, sampleRate) => {
  const text = decodeDtmf(pcm, sampleRate);
  return { text, noSpeechProb: text === '' ? SILENCE_NO_SPEECH_PROB : SPEECH_NO_SPEECH_PROB };
};
