/** A file to attach to a message. */
export interface Attachment {
  readonly name: string;
  readonly data: Buffer;
}

/** Discord allows at most this many files per message. */
export const MAX_FILES_PER_MESSAGE = 10;

/**
 * Cuts a file into parts of at most `limit` bytes, each ending at a record boundary (`separator`: "\n" for
 * transcript.txt, "\n\n" between SRT cues), named `base.partN.ext`. A file that fits is returned as is; a single
 * record longer than the limit is cut hard. Nothing is ever dropped.
 */
export function splitAttachment(file: Attachment, limit: number, separator: string): Attachment[] {
  if (file.data.length <= limit) return [file];
  const sep = Buffer.from(separator);
  const parts: Buffer[] = [];
  let start = 0;
  while (start < file.data.length) {
    let end = Math.min(start + limit, file.data.length);
    if (end < file.data.length) {
      const boundary = file.data.lastIndexOf(sep, end - sep.length);
      if (boundary >= start) end = boundary + sep.length;
    }
    parts.push(file.data.subarray(start, end));
    start = end;
  }
  const dot = file.name.lastIndexOf('.');
  const base = dot > 0 ? file.name.slice(0, dot) : file.name;
  const ext = dot > 0 ? file.name.slice(dot) : '';
  return parts.map((data, i) => ({ name: `${base}.part${i + 1}${ext}`, data }));
}

/** Groups files into messages whose attachments together stay within `limit` bytes and 10 files. */
export function groupIntoMessages(files: readonly Attachment[], limit: number): Attachment[][] {
  const messages: Attachment[][] = [];
  let current: Attachment[] = [];
  let bytes = 0;
  for (const file of files) {
    if (current.length > 0 && (bytes + file.data.length > limit || current.length >= MAX_FILES_PER_MESSAGE)) {
      messages.push(current);
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += file.data.length;
  }
  if (current.length > 0) messages.push(current);
  return messages;
}
