// The one error a file-format reader throws: a code the HTTP layer maps to a status, and a message
// meant for the person who uploaded the file (it names the limit when one was hit).

// 'unsupported': a document of a format the text reader (text.ts) does not read (an image, a workbook).
export type FormatErrorCode = 'not_a_spreadsheet' | 'unsupported' | 'encrypted' | 'corrupt' | 'too_large' | 'no_questions';

export class QuestionnaireParseError extends Error {
  readonly code: FormatErrorCode;
  constructor(code: FormatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QuestionnaireParseError';
    this.code = code;
  }
}

export const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MiB`;

/** A cap was hit: always 'too_large', with the limit's name and value in the message. */
export const limitError = (message: string) => new QuestionnaireParseError('too_large', message);

/** A questionnaire over its question cap (counted while reading, so the message says "so far"). */
export const tooManyQuestions = (n: number, max: number) =>
  limitError(`The questionnaire has more than ${max} questions (${n} found so far; limit: questions); split it into smaller files.`);
