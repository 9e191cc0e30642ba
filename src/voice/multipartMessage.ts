import { randomBytes } from 'node:crypto';
import type { REST } from '@discordjs/rest';
import { Routes } from '@discordjs/core';
import type { Attachment } from '../transcribe/transcriptAttachments.js';

/** A message body with files, as one multipart buffer and its content type. */
export interface MultipartMessage {
  readonly body: Buffer;
  readonly contentType: string;
}

/**
 * Builds Discord's multipart message body (`payload_json` + `files[n]`) ourselves. @discordjs/rest would build a
 * global FormData, which the process-wide undici 8 dispatcher (installed when undici 8 is imported) refuses; a
 * plain buffer goes through any dispatcher.
 */
export function multipartMessage(payload: Record<string, unknown>, files: readonly Attachment[]): MultipartMessage {
  const boundary = `tinyscribe-${randomBytes(12).toString('hex')}`;
  const parts: Buffer[] = [];
  const head = (disposition: string, type: string) =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; ${disposition}\r\nContent-Type: ${type}\r\n\r\n`);
  parts.push(head('name="payload_json"', 'application/json'), Buffer.from(JSON.stringify(payload)), Buffer.from('\r\n'));
  files.forEach((file, i) => {
    const safeName = file.name.replace(/["\r\n]/g, '_');
    parts.push(head(`name="files[${i}]"; filename="${safeName}"`, 'text/plain; charset=utf-8'), file.data, Buffer.from('\r\n'));
  });
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** POST /channels/{id}/messages with files, mentions disabled. */
export async function createMessageWithFiles(rest: REST, channelId: string, content: string, files: readonly Attachment[]): Promise<void> {
  const attachments = files.map((f, i) => ({ id: i, filename: f.name }));
  const { body, contentType } = multipartMessage({ content, allowed_mentions: { parse: [] }, attachments }, files);
  await rest.post(Routes.channelMessages(channelId), { body, passThroughBody: true, headers: { 'Content-Type': contentType } });
}
