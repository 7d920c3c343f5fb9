import { randomUUID } from 'node:crypto';

export interface FilePart {
  name?: string;
  filename: string;
  content: Buffer | string;
  contentType?: string;
}

/** A multipart/form-data body for app.inject: fields (repeatable) and files; a random boundary unless given. */
export function multipart(fields: Record<string, string | string[]>, files: FilePart[] = [], opts: { boundary?: string } = {}) {
  const boundary = opts.boundary ?? '----tc' + randomUUID().replace(/-/g, '');
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${v}\r\n`));
    }
  }
  for (const f of files) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.name ?? 'file'}"; filename="${f.filename}"\r\nContent-Type: ${f.contentType ?? 'application/octet-stream'}\r\n\r\n`,
      ),
    );
    chunks.push(Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
