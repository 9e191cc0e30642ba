/** One part of a multipart/form-data body, as a test sees it. */
export interface FormPart {
  readonly headers: Readonly<Record<string, string>>;
  readonly name: string;
  readonly filename: string | undefined;
  readonly data: Buffer;
}

/** Strict RFC 7578 parser for tests: throws on anything malformed (no preamble/epilogue tolerance). */
export function parseMultipart(body: Buffer, contentType: string): FormPart[] {
  const match = /^multipart\/form-data; boundary=([^;]+)$/.exec(contentType);
  if (!match) throw new Error(`not multipart/form-data: ${contentType}`);
  const delimiter = Buffer.from(`--${match[1]}`, 'latin1');
  const separator = Buffer.from(`\r\n--${match[1]}`, 'latin1');
  if (body.indexOf(delimiter) !== 0) throw new Error('body does not start with the boundary');
  const parts: FormPart[] = [];
  let pos = delimiter.length;
  for (;;) {
    const after = body.toString('latin1', pos, pos + 2);
    if (after === '--') {
      if (body.toString('latin1', pos + 2) !== '\r\n') throw new Error('bytes after the closing boundary');
      return parts;
    }
    if (after !== '\r\n') throw new Error(`expected CRLF after boundary at ${pos}`);
    pos += 2;
    const end = body.indexOf(separator, pos);
    if (end < 0) throw new Error('unterminated part');
    const raw = body.subarray(pos, end);
    const split = raw.indexOf('\r\n\r\n');
    if (split < 0) throw new Error('part without header/body separator');
    const headers: Record<string, string> = {};
    for (const line of raw.toString('utf8', 0, split).split('\r\n')) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const disposition = headers['content-disposition'] ?? '';
    const name = /\bname="([^"]*)"/.exec(disposition)?.[1];
    if (name === undefined) throw new Error(`part without a name: ${disposition}`);
    const filename = /\bfilename="([^"]*)"/.exec(disposition)?.[1];
    parts.push({ headers, name, filename, data: raw.subarray(split + 4) });
    pos = end + separator.length;
  }
}

/** The text fields of a parsed form, by name. */
export function formFields(parts: readonly FormPart[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const part of parts) if (part.filename === undefined) fields[part.name] = part.data.toString('utf8');
  return fields;
}
