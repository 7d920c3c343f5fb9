import { createHash } from 'node:crypto';
import '@fastify/multipart';
import type { Multipart } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { DomainError } from './errors.js';
import type { BlobStore, StoredBlob } from './storage.js';

/** Largest text field (titles, refs, mapping JSON); longer ones are refused, never cut short. */
const FIELD_BYTES = 64 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    /** What a shared reader below has read of this multipart body (the idempotency plugin keys requests by it). */
    multipartDigest?: MultipartDigest;
  }
}

/**
 * A multipart body in a form that does not depend on its boundary or on the order of its parts:
 * each text field (name, value) and each file (field name, file name, declared type, SHA-256 of
 * the bytes), which is what a handler acts on. `complete` once every part was read.
 */
export class MultipartDigest {
  private readonly entries: string[] = [];
  complete = false;

  field(name: string, value: string): void {
    this.entries.push(JSON.stringify(['field', name, value]));
  }

  file(name: string, fileName: string, contentType: string, sha256: string): void {
    this.entries.push(JSON.stringify(['file', name, fileName, contentType, sha256]));
  }

  /** JSON-encoded entries hold no raw newline, so sorting and joining them is unambiguous. */
  digest(): string {
    return createHash('sha256')
      .update([...this.entries].sort().join('\n'))
      .digest('hex');
  }
}

/** A field's text as handlers read it (a part sent as application/json arrives parsed). */
function fieldText(part: Extract<Multipart, { type: 'field' }>): string {
  if (part.valueTruncated) {
    throw new DomainError('payload_too_large', `field "${part.fieldname}" is longer than ${FIELD_BYTES} bytes`, {
      errors: [{ field: `body/${part.fieldname}`, message: 'too long' }],
    });
  }
  return typeof part.value === 'string' ? part.value : JSON.stringify(part.value);
}

/** Starts a new digest for this request's body (a request is read once). */
function startDigest(request: FastifyRequest): MultipartDigest {
  const digest = new MultipartDigest();
  request.multipartDigest = digest;
  return digest;
}

/** A file received in a request, already in the blob store. */
export interface UploadedFile {
  stored: StoredBlob;
  fileName: string;
  contentType: string;
}

export interface Upload {
  fields: Record<string, string[]>;
  file?: UploadedFile;
}

/**
 * Reads a multipart request: text fields into memory, the one `file` part streamed into the blob
 * store (hashed on the way, never buffered whole). The caller discards the blob if it then fails.
 */
export async function readUpload(request: FastifyRequest, blobs: BlobStore, maxBytes: number): Promise<Upload> {
  if (!request.isMultipart()) throw new DomainError('unsupported_media_type', 'send multipart/form-data with a `file` part');
  const fields: Record<string, string[]> = {};
  let file: Upload['file'];
  const digest = startDigest(request);
  try {
    for await (const part of request.parts({ limits: { fileSize: maxBytes, files: 1, fields: 50, fieldSize: FIELD_BYTES } })) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') {
          part.file.resume();
          throw new DomainError('validation_failed', `unexpected file field "${part.fieldname}"; send the file as \`file\``, {
            errors: [{ field: `body/${part.fieldname}`, message: 'unexpected file' }],
          });
        }
        if (part.filename?.includes('\0')) nulRefused('body/file (file name)');
        // The blob store hashes the bytes on the way in: the digest costs no second read.
        const stored = await blobs.put(part.file, maxBytes);
        file = { stored, fileName: part.filename || 'upload', contentType: part.mimetype || 'application/octet-stream' };
        digest.file(part.fieldname, part.filename ?? '', part.mimetype ?? '', stored.sha256);
      } else {
        const value = fieldText(part);
        // As in JSON bodies (plugins/validation.ts): PostgreSQL text cannot hold U+0000.
        if (value.includes('\0') || part.fieldname.includes('\0')) nulRefused(`body/${part.fieldname.replace(/\0/g, '\\u0000')}`);
        (fields[part.fieldname] ??= []).push(value);
        digest.field(part.fieldname, value);
      }
    }
  } catch (err) {
    // Not "delete if this request created it": a concurrent upload of the same bytes may rely on them.
    if (file) await blobs.discard(file.stored);
    throw partsError(err, maxBytes);
  }
  digest.complete = true;
  return { fields, ...(file ? { file } : {}) };
}

/** The parser's limit errors as our codes; anything else as it is. */
function partsError(err: unknown, maxBytes: number): unknown {
  const code = (err as { code?: string }).code;
  if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
    return new DomainError('payload_too_large', 'too many parts: send one `file` and a few fields');
  }
  if (code === 'FST_REQ_FILE_TOO_LARGE') return new DomainError('payload_too_large', `upload exceeds the limit of ${maxBytes} bytes`);
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE' || code === 'FST_MULTIPART_INVALID_CONTENT_TYPE') {
    return new DomainError('unsupported_media_type', 'send multipart/form-data');
  }
  return err;
}

/**
 * `request.parts()` for handlers that want each file in memory (small, bounded imports): every
 * file part arrives already read (its `toBuffer()` answers the same buffer again) and every part is
 * recorded in the request's digest. The route's own limits and error mapping apply unchanged.
 */
export async function* bufferedParts(request: FastifyRequest): AsyncGenerator<Multipart> {
  const digest = startDigest(request);
  for await (const part of request.parts({ limits: { fieldSize: FIELD_BYTES } })) {
    if (part.type === 'file') {
      const data = await part.toBuffer();
      digest.file(part.fieldname, part.filename ?? '', part.mimetype ?? '', createHash('sha256').update(data).digest('hex'));
    } else {
      digest.field(part.fieldname, fieldText(part));
    }
    yield part;
  }
  // Reached only when the caller read every part (a caller that stops early never gets here).
  digest.complete = true;
}

/**
 * The digest of a multipart body no handler reads (a replayed request, or one its route ignored):
 * files are hashed as they stream past, never kept, and refused beyond `maxFileBytes`.
 */
export async function readMultipartDigest(request: FastifyRequest, maxFileBytes: number): Promise<string> {
  if (typeof request.parts !== 'function') throw new DomainError('unsupported_media_type', 'this route does not take multipart/form-data');
  const digest = new MultipartDigest();
  try {
    for await (const part of request.parts({ limits: { fileSize: maxFileBytes, fieldSize: FIELD_BYTES } })) {
      if (part.type === 'file') {
        const hash = createHash('sha256');
        for await (const chunk of part.file) hash.update(chunk as Buffer);
        if (part.file.truncated) throw new DomainError('payload_too_large', `upload exceeds the limit of ${maxFileBytes} bytes`);
        digest.file(part.fieldname, part.filename ?? '', part.mimetype ?? '', hash.digest('hex'));
      } else {
        digest.field(part.fieldname, fieldText(part));
      }
    }
  } catch (err) {
    throw partsError(err, maxFileBytes);
  }
  return digest.digest();
}

function nulRefused(field: string): never {
  const message = 'must not contain NUL (U+0000) characters';
  throw new DomainError('validation_failed', `${field} ${message}`, { errors: [{ field, message }] });
}

/** A single text field, or undefined; several values for a single field are a 400. */
export function field(fields: Record<string, string[]>, name: string): string | undefined {
  const values = fields[name];
  if (!values || values.length === 0) return undefined;
  if (values.length > 1)
    throw new DomainError('validation_failed', `field "${name}" was sent ${values.length} times`, {
      errors: [{ field: `body/${name}`, message: 'sent more than once' }],
    });
  const v = values[0]!.trim();
  return v === '' ? undefined : v;
}
