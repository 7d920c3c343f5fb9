// Security questionnaire import: detects the layout of a buyer's spreadsheet (CSV, XLSX) or JSON
// questionnaire instead of asking the user to map it. Pure library: no database, no HTTP.
// This file is the entry (sniff and dispatch); the parts are in ./detect/, one concern a file.
import path from 'node:path';
import { QuestionnaireParseError, limitError, mib, type FormatErrorCode } from './errors.js';
import { EDITOR_LIMITS, type ParseLimits } from './limits.js';
import type { MappingOverride, ParsedQuestionnaire } from './questionnaire.js';
import { parseCsvText } from './detect/csv.js';
import { parseJson } from './detect/json.js';
import { normaliseMapping } from './detect/mapping.js';
import { OLE_MAGIC, ZIP_MAGIC, decodeText, knownBinary, markupKind, oleError, startsWith } from './detect/sniff.js';
import { parseXlsx } from './detect/xlsx.js';

export { QuestionnaireParseError } from './errors.js';
export { readZipDirectory } from './zip.js';
export type { ParseLimits } from './limits.js';
export { isIdLike, looksLikeQuestion } from './detect/cell-text.js';
export { classifyHeader } from './detect/header-vocabulary.js';
export { parseRange } from './detect/grid.js';
export { extractListValidations } from './detect/dropdowns.js';
// The reader's results, for callers that import them from here.
export type * from './questionnaire.js';

export type QuestionnaireParseErrorCode = FormatErrorCode;

/** The editor's limits (src/formats/limits.ts has the prospect's and the SoA import's). */
export const QUESTIONNAIRE_LIMITS: ParseLimits = EDITOR_LIMITS;

/**
 * Reads a questionnaire (XLSX, CSV or JSON, including Google VSAQ templates) and detects where its
 * questions, IDs, sections and answer cells are. `mapping` corrects the detection and takes
 * precedence. Throws QuestionnaireParseError (code: not_a_spreadsheet, encrypted, corrupt,
 * too_large, no_questions) with a message meant for the user.
 */
export async function parseQuestionnaire(input: {
  fileName?: string;
  bytes: Buffer | Uint8Array;
  mapping?: MappingOverride;
  limits?: ParseLimits;
}): Promise<ParsedQuestionnaire> {
  const bytes = Buffer.isBuffer(input.bytes) ? input.bytes : Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength);
  const limits = input.limits ?? EDITOR_LIMITS;
  const ext = input.fileName ? path.extname(input.fileName).toLowerCase() : '';
  const mapping = input.mapping ? normaliseMapping(input.mapping) : undefined;
  if (bytes.length === 0) throw new QuestionnaireParseError('not_a_spreadsheet', 'The file is empty.');

  // Magic bytes decide the format; the file name only sharpens error messages.
  if (startsWith(bytes, ZIP_MAGIC)) return parseXlsx(bytes, mapping, limits);
  if (startsWith(bytes, OLE_MAGIC)) throw oleError(bytes, ext);
  const binary = knownBinary(bytes);
  if (binary) throw new QuestionnaireParseError('not_a_spreadsheet', `This is ${binary}, not a questionnaire. Upload an .xlsx, .csv or .json file.`);
  if (ext === '.xlsx' || ext === '.xlsm')
    throw new QuestionnaireParseError('corrupt', `"${input.fileName}" is named like an Excel workbook but is not a ZIP package; it is damaged or was renamed.`);
  if (bytes.length > limits.maxTextBytes) {
    throw limitError(`The file is ${mib(bytes.length)}; text questionnaires are limited to ${mib(limits.maxTextBytes)} (limit: text file bytes).`);
  }
  const text = decodeText(bytes);
  const head = text.replace(/^\s+/, '').slice(0, 2000);
  const markup = markupKind(head);
  if (markup) throw new QuestionnaireParseError('not_a_spreadsheet', markup);
  // JSON when named .json or when it opens like JSON; anything else that opens like JSON but does not parse is read as CSV.
  if (ext === '.json') return parseJson(text, limits, mapping?.withValues);
  if (/^(\{|\[|\/\/|\/\*)/.test(head)) {
    try {
      return parseJson(text, limits, mapping?.withValues);
    } catch (err) {
      if (!(err instanceof QuestionnaireParseError && err.code === 'corrupt')) throw err;
    }
  }
  return parseCsvText(text, input.fileName, mapping, limits);
}
