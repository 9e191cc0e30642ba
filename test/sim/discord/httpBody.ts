import type { IncomingMessage } from 'node:http';
import { TinyscribeError } from '../../../src/util/errors.js';
import type { ReceivedFile } from './records.js';

/** A request body, decoded: the JSON part (the body itself, or payload_json of a multipart form) and its files. */
export interface ParsedBody {
  readonly json: unknown;
  readonly files: ReceivedFile[];
  readonly multipart: boolean;
  readonly size: number;
}

/** Reads the whole body, refusing more than `limit` bytes (Discord's own cap is 10 MiB for bots plus the JSON). */
export async function readBody(req: IncomingMessage, limit = 26_214_400): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new TinyscribeError('SIM_BODY_TOO_LARGE', `request body above ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Decodes JSON or multipart/form-data. Multipart goes through the WHATWG `Response.formData()` parser that ships
 * with Node (undici's), so boundaries, quoting and file names are handled by a real implementation.
 */
export async function parseBody(raw: Buffer, contentType: string | undefined): Promise<ParsedBody> {
  const type = (contentType ?? '').toLowerCase();
  if (raw.length === 0) return { json: undefined, files: [], multipart: false, size: 0 };
  if (type.startsWith('multipart/form-data')) {
    const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType ?? '' } }).formData();
    let json: unknown;
    const files: ReceivedFile[] = [];
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') json = JSON.parse(value);
        continue;
      }
      files.push({
        field,
        name: value.name,
        contentType: value.type || 'application/octet-stream',
        data: Buffer.from(await value.arrayBuffer()),
      });
    }
    return { json, files, multipart: true, size: raw.length };
  }
  if (type.startsWith('application/json')) {
    return { json: JSON.parse(raw.toString('utf8')), files: [], multipart: false, size: raw.length };
  }
  throw new TinyscribeError('SIM_BAD_CONTENT_TYPE', `unsupported request content type "${contentType ?? ''}"`);
}
