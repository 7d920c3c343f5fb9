import '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { DomainError } from './errors.js';
import type { BlobStore, StoredBlob } from './storage.js';

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
  try {
    for await (const part of request.parts({ limits: { fileSize: maxBytes, files: 1, fields: 50, fieldSize: 64 * 1024 } })) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') {
          part.file.resume();
          throw new DomainError('validation_failed', `unexpected file field "${part.fieldname}"; send the file as \`file\``, { errors: [{ field: `body/${part.fieldname}`, message: 'unexpected file' }] });
        }
        if (part.filename?.includes('\0')) nulRefused('body/file (file name)');
        const stored = await blobs.put(part.file, maxBytes);
        file = { stored, fileName: part.filename || 'upload', contentType: part.mimetype || 'application/octet-stream' };
      } else {
        const value = String(part.value);
        // As in JSON bodies (plugins/validation.ts): PostgreSQL text cannot hold U+0000.
        if (value.includes('\0') || part.fieldname.includes('\0')) nulRefused(`body/${part.fieldname.replace(/\0/g, '\\u0000')}`);
        (fields[part.fieldname] ??= []).push(value);
      }
    }
  } catch (err) {
    // Not "delete if this request created it": a concurrent upload of the same bytes may rely on them.
    if (file) await blobs.discard(file.stored);
    const code = (err as { code?: string }).code;
    if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
      throw new DomainError('payload_too_large', 'too many parts: send one `file` and a few fields');
    }
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw new DomainError('payload_too_large', `upload exceeds the limit of ${maxBytes} bytes`);
    if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE' || code === 'FST_MULTIPART_INVALID_CONTENT_TYPE') {
      throw new DomainError('unsupported_media_type', 'send multipart/form-data');
    }
    throw err;
  }
  return { fields, ...(file ? { file } : {}) };
}

function nulRefused(field: string): never {
  const message = 'must not contain NUL (U+0000) characters';
  throw new DomainError('validation_failed', `${field} ${message}`, { errors: [{ field, message }] });
}

/** A single text field, or undefined; several values for a single field are a 400. */
export function field(fields: Record<string, string[]>, name: string): string | undefined {
  const values = fields[name];
  if (!values || values.length === 0) return undefined;
  if (values.length > 1) throw new DomainError('validation_failed', `field "${name}" was sent ${values.length} times`, { errors: [{ field: `body/${name}`, message: 'sent more than once' }] });
  const v = values[0]!.trim();
  return v === '' ? undefined : v;
}
