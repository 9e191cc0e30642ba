/**
 * A small, strict multipart/form-data parser (RFC 7578 on top of RFC 2046) for the Whisper stand-in.
 * Bodies are buffered (they are capped at 25 MiB), so this works on one Buffer and never decodes part
 * content as text unless asked: file bytes stay binary-exact.
 */
import { TinyscribeError } from '../../../src/util/errors.js';

/** One part of a multipart/form-data body. */
export interface MultipartPart {
  /** The `name` parameter of Content-Disposition. */
  readonly name: string;
  /** The `filename` (or decoded `filename*`) parameter, if the part is a file. */
  readonly filename?: string;
  /** The part's own Content-Type header, if any. */
  readonly contentType?: string;
  /** All part headers, names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  /** The exact content bytes (a view into the body, not a copy). */
  readonly data: Buffer;
}

/** Why a body is not valid multipart/form-data; `code` is one of the MULTIPART_* codes below. */
export class MultipartError extends TinyscribeError {}

/** Guards against pathological bodies; OpenAI's endpoint takes about ten fields. */
const MAX_PARTS = 256;
const MAX_HEADER_BYTES = 8 * 1024;

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** Extracts the boundary from a `multipart/form-data; boundary=…` Content-Type header value. */
export function boundaryFromContentType(contentType: string | undefined): string {
  if (!contentType) throw new MultipartError('MULTIPART_NO_CONTENT_TYPE', 'missing Content-Type header');
  const { value, params } = parseHeaderValue(contentType);
  if (value.toLowerCase() !== 'multipart/form-data') {
    throw new MultipartError('MULTIPART_WRONG_TYPE', `Content-Type must be multipart/form-data, got ${value}`);
  }
  const boundary = params.get('boundary');
  // RFC 2046: 1–70 characters, not ending in a space.
  if (!boundary || boundary.length > 70 || boundary.endsWith(' ')) {
    throw new MultipartError('MULTIPART_NO_BOUNDARY', 'missing or invalid boundary parameter');
  }
  return boundary;
}

/** Splits a buffered multipart/form-data body into its parts. Throws MultipartError if it is malformed. */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const dashBoundary = Buffer.from(`--${boundary}`, 'latin1');
  const delimiter = Buffer.concat([CRLF, dashBoundary]);

  // The first boundary may open the body directly; anything before it is an ignorable preamble.
  let pos: number;
  if (body.subarray(0, dashBoundary.length).equals(dashBoundary)) pos = dashBoundary.length;
  else {
    const first = body.indexOf(delimiter);
    if (first < 0) throw new MultipartError('MULTIPART_NO_PARTS', 'no boundary found in body');
    pos = first + delimiter.length;
  }

  const parts: MultipartPart[] = [];
  for (;;) {
    // After a boundary: "--" closes the body, otherwise optional padding then CRLF starts a part.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break;
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (body[pos] !== 0x0d || body[pos + 1] !== 0x0a) {
      throw new MultipartError('MULTIPART_BAD_DELIMITER', `expected CRLF after boundary at byte ${pos}`);
    }
    pos += 2;

    let headerBlock: string;
    let contentStart: number;
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) {
      headerBlock = '';
      contentStart = pos + 2;
    } else {
      const headerEnd = body.indexOf(HEADER_END, pos);
      if (headerEnd < 0 || headerEnd - pos > MAX_HEADER_BYTES) {
        throw new MultipartError('MULTIPART_BAD_HEADERS', `unterminated part headers at byte ${pos}`);
      }
      headerBlock = body.toString('utf8', pos, headerEnd);
      contentStart = headerEnd + HEADER_END.length;
    }

    const contentEnd = body.indexOf(delimiter, contentStart);
    if (contentEnd < 0) throw new MultipartError('MULTIPART_UNTERMINATED', 'missing closing boundary');
    parts.push(makePart(parseHeaderBlock(headerBlock), body.subarray(contentStart, contentEnd)));
    if (parts.length > MAX_PARTS) throw new MultipartError('MULTIPART_TOO_MANY_PARTS', `more than ${MAX_PARTS} parts`);
    pos = contentEnd + delimiter.length;
  }
  return parts;
}

function makePart(headers: Record<string, string>, data: Buffer): MultipartPart {
  const disposition = headers['content-disposition'];
  if (!disposition) throw new MultipartError('MULTIPART_BAD_HEADERS', 'part without Content-Disposition');
  const { value, params } = parseHeaderValue(disposition);
  const name = params.get('name');
  if (value.toLowerCase() !== 'form-data' || name === undefined) {
    throw new MultipartError('MULTIPART_BAD_HEADERS', `bad Content-Disposition: ${disposition}`);
  }
  const filename = decodeExtValue(params.get('filename*')) ?? params.get('filename');
  const contentType = headers['content-type'];
  return {
    name,
    headers,
    data,
    ...(filename !== undefined ? { filename } : {}),
    ...(contentType !== undefined ? { contentType } : {}),
  };
}

function parseHeaderBlock(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (block === '') return headers;
  let last: string | undefined;
  for (const line of block.split('\r\n')) {
    // Obsolete line folding: a continuation line starts with whitespace.
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      headers[last] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError('MULTIPART_BAD_HEADERS', `malformed part header line: ${line}`);
    last = line.slice(0, colon).trim().toLowerCase();
    headers[last] = line.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * Parses `value; key=token; key2="quoted \"string\""` into the value and a parameter map
 * (keys lower-cased, first occurrence wins).
 */
export function parseHeaderValue(header: string): { value: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  const semi = header.indexOf(';');
  const value = (semi < 0 ? header : header.slice(0, semi)).trim();
  let i = semi < 0 ? header.length : semi + 1;
  while (i < header.length) {
    while (i < header.length && (header[i] === ' ' || header[i] === '\t' || header[i] === ';')) i++;
    const eq = header.indexOf('=', i);
    if (eq < 0) break;
    const key = header.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (header[i] === ' ' || header[i] === '\t') i++;
    let val = '';
    if (header[i] === '"') {
      i++;
      while (i < header.length && header[i] !== '"') {
        if (header[i] === '\\' && i + 1 < header.length) i++;
        val += header[i];
        i++;
      }
      if (header[i] !== '"') throw new MultipartError('MULTIPART_BAD_HEADERS', `unterminated quoted string: ${header}`);
      i++;
    } else {
      const end = header.indexOf(';', i);
      val = header.slice(i, end < 0 ? header.length : end).trim();
      i = end < 0 ? header.length : end;
    }
    if (key && !params.has(key)) params.set(key, val);
  }
  return { value, params };
}

/** Decodes an RFC 8187 ext-value (`UTF-8''%e2%82%ac.wav`); undefined if absent or not UTF-8. */
function decodeExtValue(ext: string | undefined): string | undefined {
  if (ext === undefined) return undefined;
  const match = /^utf-8'[^']*'(.*)$/i.exec(ext);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return undefined;
  }
}
