import { Type } from 'typebox';
import { Nullable } from '../../lib/schemas.js';
import { INDEX_STATUSES } from './tables.js';

/** What answering can draw from a document or evidence file, as their views show it. */
export const TextIndex = (what: string) =>
  Nullable(
    Type.Object(
      {
        status: Type.Enum(INDEX_STATUSES, {
          description: 'indexed: passages available; scanned: a PDF without text (no OCR); unsupported or failed: see detail; pending: not read yet.',
        }),
        passages: Type.Integer(),
        version: Type.Integer({ description: 'The version whose text is indexed.' }),
        detail: Nullable(Type.String()),
      },
      { description: `The text answers can draw from ${what} (PDF, DOCX, Markdown, HTML, plain text).` },
    ),
  );

export const UseForAnswers = (what: string) => Type.Boolean({ description: `Whether questionnaire answers may quote and cite ${what}.` });
