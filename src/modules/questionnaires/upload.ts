import type { FastifyRequest } from 'fastify';
import type { Executor } from '../../db/client.js';
import { DomainError, type ErrorCode } from '../../lib/errors.js';
import { field, readUpload } from '../../lib/multipart.js';
import type { BlobStore, StoredBlob } from '../../lib/storage.js';
import { discardBlob } from '../blobs/index.js';
import { QuestionnaireParseError, type MappingOverride, type ParsedQuestionnaire } from '../../formats/detect.js';
import type { LimitProfile } from '../../formats/limits.js';
import type { ImportInput } from './service.js';

const PARSE_ERRORS: Record<string, ErrorCode> = {
  not_a_spreadsheet: 'unsupported_media_type',
  encrypted: 'bad_request',
  corrupt: 'bad_request',
  too_large: 'payload_too_large',
  no_questions: 'unprocessable',
};

/**
 * A questionnaire from a request: JSON {name, questions}, or a multipart `file` (kept in the blob
 * store for the write-back) whose layout is detected; a refused file leaves no blob behind. The file
 * is read in the parser pool, under the editor's or the (lower) prospect's limits.
 */
export async function readQuestionnaireUpload(
  req: FastifyRequest,
  db: Executor,
  blobs: BlobStore,
  maxBytes: number,
  profile: LimitProfile = 'editor',
): Promise<{ input: ImportInput; created?: StoredBlob }> {
  if (!req.isMultipart()) {
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
      throw new DomainError('unsupported_media_type', 'send JSON {name, questions} or multipart/form-data with a `file`');
    const body = req.body as { name: string; questions: { ref?: string; text: string; section?: string; allowedAnswers?: string[] }[] };
    const parsed: ParsedQuestionnaire = {
      format: 'json',
      sheets: [],
      warnings: [],
      questions: body.questions.map((q) => ({
        ...(q.ref ? { ref: q.ref } : {}),
        text: q.text,
        ...(q.section ? { section: q.section } : {}),
        ...(q.allowedAnswers?.length ? { allowedAnswers: q.allowedAnswers } : {}),
        answerCells: [],
      })),
    };
    return { input: { name: body.name, parsed } };
  }
  const upload = await readUpload(req, blobs, maxBytes);
  try {
    if (!upload.file)
      throw new DomainError('validation_failed', 'send the questionnaire as the `file` part', { errors: [{ field: 'body/file', message: 'is required' }] });
    let mapping: MappingOverride | undefined;
    const rawMapping = field(upload.fields, 'mapping');
    if (rawMapping) {
      try {
        mapping = JSON.parse(rawMapping) as MappingOverride;
      } catch {
        throw new DomainError('validation_failed', 'mapping must be JSON', { errors: [{ field: 'body/mapping', message: 'not JSON' }] });
      }
    }
    let parsed: ParsedQuestionnaire;
    try {
      parsed = await req.server.parsers.parseQuestionnaire({
        fileName: upload.file.fileName,
        bytes: await blobs.readVerified(upload.file.stored.sha256),
        profile,
        ...(mapping ? { mapping } : {}),
      });
    } catch (err) {
      if (err instanceof QuestionnaireParseError) throw new DomainError(PARSE_ERRORS[err.code] ?? 'bad_request', err.message);
      throw err;
    }
    const name = field(upload.fields, 'name') ?? parsed.name ?? upload.file.fileName;
    return {
      input: { name, parsed, source: { sha256: upload.file.stored.sha256, fileName: upload.file.fileName, lease: upload.file.stored.lease } },
      created: upload.file.stored,
    };
  } catch (err) {
    await discardBlob(db, blobs, upload.file?.stored);
    throw err;
  }
}
