/** `hh:mm:ss` of an offset from the session start (hours keep counting past 24). */
export function clockOffset(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${pad(h)}:${pad(m)}:${pad(s)}`;
}

/** SRT timestamp `hh:mm:ss,mmm`. */
export function srtTimestamp(ms: number): string {
  const whole = Math.max(0, Math.round(ms));
  return `${clockOffset(whole)},${String(whole % 1000).padStart(3, '0')}`;
}

/** One SRT cue: number, time range, `Name: text`, blank line. Newlines in the text are folded (a blank line would end the cue). */
export function srtCue(index: number, startMs: number, endMs: number, name: string, text: string): string {
  return `${index}\n${srtTimestamp(startMs)} --> ${srtTimestamp(Math.max(endMs, startMs + 1))}\n${name}: ${oneLine(text)}\n\n`;
}

/** One transcript.txt line: `[hh:mm:ss] Name: text`. */
export function transcriptTextLine(offsetMs: number, name: string, text: string): string {
  return `[${clockOffset(offsetMs)}] ${name}: ${oneLine(text)}\n`;
}

function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, ' ');
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
