/**
 * Test-only PCM building blocks: silence, seeded noise, tones, concatenation, loudness and a simple
 * downmix/resampler. All PCM is signed 16-bit, interleaved when it has more than one channel.
 * These run once per test clip, not per frame, so they allocate freely.
 */

const FULL_SCALE = 32768;

/** Number of sample frames (per channel) in `ms` milliseconds at `sampleRate`. */
export function framesFor(ms: number, sampleRate: number): number {
  return Math.round((ms * sampleRate) / 1000);
}

/** `ms` of digital silence. */
export function silencePcm(ms: number, sampleRate: number, channels: number): Int16Array {
  return new Int16Array(framesFor(ms, sampleRate) * channels);
}

/** Deterministic 32-bit PRNG (mulberry32) so noisy fixtures are identical on every run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** White noise whose RMS is `dbfs` (e.g. −60), identical for the same `seed`; channels are independent. */
export function noisePcm(ms: number, dbfs: number, sampleRate: number, channels: number, seed = 1): Int16Array {
  const random = mulberry32(seed);
  const out = new Int16Array(framesFor(ms, sampleRate) * channels);
  // Uniform noise on [-a, a] has RMS a/sqrt(3).
  const a = Math.sqrt(3) * FULL_SCALE * 10 ** (dbfs / 20);
  for (let i = 0; i < out.length; i++) out[i] = clamp16((random() * 2 - 1) * a);
  return out;
}

/** Options for {@link toneBurst}. */
export interface ToneOptions {
  sampleRate: number;
  channels: number;
  /** Peak of the summed signal, 0..1 of full scale (the tones share it equally). Default 0.3. */
  amplitude?: number;
  /** Raised-cosine fade in/out, ms, to avoid clicks. Default 0 (hard edges, like a DTMF generator). */
  fadeMs?: number;
}

/** A burst of one or more summed sine tones (e.g. `[697, 1209]` for DTMF "1"), same on every channel. */
export function toneBurst(freqsHz: number | readonly number[], ms: number, opts: ToneOptions): Int16Array {
  const freqs = typeof freqsHz === 'number' ? [freqsHz] : freqsHz;
  const { sampleRate, channels } = opts;
  const amplitude = opts.amplitude ?? 0.3;
  const frames = framesFor(ms, sampleRate);
  const fade = framesFor(opts.fadeMs ?? 0, sampleRate);
  const perTone = (amplitude * (FULL_SCALE - 1)) / Math.max(1, freqs.length);
  const out = new Int16Array(frames * channels);
  for (let n = 0; n < frames; n++) {
    let v = 0;
    for (const f of freqs) v += Math.sin((2 * Math.PI * f * n) / sampleRate);
    let gain = 1;
    if (fade > 0 && n < fade) gain = 0.5 - 0.5 * Math.cos((Math.PI * n) / fade);
    else if (fade > 0 && n >= frames - fade) gain = 0.5 - 0.5 * Math.cos((Math.PI * (frames - 1 - n)) / fade);
    const s = clamp16(v * perTone * gain);
    for (let c = 0; c < channels; c++) out[n * channels + c] = s;
  }
  return out;
}

/** Joins PCM pieces end to end (they must share sample rate and channel count). */
export function concatPcm(...parts: readonly Int16Array[]): Int16Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Int16Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** RMS level of all samples in dBFS (full-scale sine ≈ −3 dBFS); −Infinity for empty or all-zero input. */
export function rmsDbfs(pcm: Int16Array): number {
  if (pcm.length === 0) return -Infinity;
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) {
    const v = pcm[i]!;
    sum += v * v;
  }
  if (sum === 0) return -Infinity;
  return 20 * Math.log10(Math.sqrt(sum / pcm.length) / FULL_SCALE);
}

/** Averages interleaved channels into mono. Returns the input itself when it is already mono. */
export function downmix(pcm: Int16Array, channels: number): Int16Array {
  if (channels === 1) return pcm;
  const frames = Math.floor(pcm.length / channels);
  const out = new Int16Array(frames);
  for (let n = 0; n < frames; n++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += pcm[n * channels + c]!;
    out[n] = Math.round(sum / channels);
  }
  return out;
}

/** Half-width of the windowed-sinc kernel in input-rate zero crossings; 16 gives > 40 dB stop-band, plenty for tests. */
const SINC_HALF_WIDTH = 16;

/**
 * Resamples mono PCM with a Hann-windowed sinc (anti-aliased when going down). Simple and O(n·taps),
 * meant for tests and the Whisper stand-in, not for the bot's hot path.
 */
export function resampleMono(pcm: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return pcm;
  const ratio = toRate / fromRate;
  const outLength = Math.floor((pcm.length * toRate) / fromRate);
  const out = new Int16Array(outLength);
  // Cut-off at the lower Nyquist, as a fraction of the input rate.
  const cutoff = Math.min(1, ratio);
  const halfTaps = Math.ceil(SINC_HALF_WIDTH / cutoff);
  for (let m = 0; m < outLength; m++) {
    const center = m / ratio;
    const first = Math.max(0, Math.ceil(center - halfTaps));
    const last = Math.min(pcm.length - 1, Math.floor(center + halfTaps));
    let acc = 0;
    for (let k = first; k <= last; k++) {
      const x = k - center;
      const window = 0.5 + 0.5 * Math.cos((Math.PI * x) / (halfTaps + 1));
      const arg = Math.PI * x * cutoff;
      const sinc = arg === 0 ? 1 : Math.sin(arg) / arg;
      acc += pcm[k]! * cutoff * sinc * window;
    }
    out[m] = clamp16(acc);
  }
  return out;
}

/** Any interleaved PCM to 16 kHz mono (downmix, then resample). */
export function toMono16k(pcm: Int16Array, sampleRate: number, channels: number): Int16Array {
  return resampleMono(downmix(pcm, channels), sampleRate, 16_000);
}

/** 48 kHz stereo (what Discord decodes to by default) to 16 kHz mono, for tests. */
export function downmix48kStereoTo16kMono(pcm: Int16Array): Int16Array {
  return toMono16k(pcm, 48_000, 2);
}

/** Rounds and saturates to the signed 16-bit range. */
export function clamp16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}
