// A CSV questionnaire: the delimiter sniffed, the records read under the limits into a grid, and
// the layout detected on it as on a worksheet.
import path from 'node:path';
import { readCsvRecords } from '../csv.js';
import { QuestionnaireParseError } from '../errors.js';
import type { ParseLimits } from '../limits.js';
import type { MappingOverride, ParsedQuestionnaire } from '../questionnaire.js';
import { emptyGrid, setCell } from './grid.js';
import { detectSheet } from './layout.js';

// Delimiter: the most frequent of , ; TAB | on the first line (outside quotes).
function sniffDelimiter(text: string): string {
  const counts = new Map<string, number>([
    [',', 0],
    [';', 0],
    ['\t', 0],
    ['|', 0],
  ]);
  let quoted = false;
  for (let i = 0; i < text.length && i < 100_000; i++) {
    const ch = text[i]!;
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ',';
  for (const [d, n] of counts) if (n > counts.get(best)!) best = d;
  return best;
}

export function parseCsvText(text: string, fileName: string | undefined, mapping: MappingOverride | undefined, limits: ParseLimits): ParsedQuestionnaire {
  let records: string[][];
  try {
    records = readCsvRecords(text, sniffDelimiter(text), limits, { bom: true });
  } catch (err) {
    if (err instanceof QuestionnaireParseError) throw err;
    throw new QuestionnaireParseError('corrupt', `The CSV file cannot be read: ${(err as Error).message}`, { cause: err });
  }
  const name = fileName ? path.basename(fileName, path.extname(fileName)) : 'CSV';
  const g = emptyGrid(name);
  records.forEach((rec, i) => rec.forEach((v, j) => v !== '' && setCell(g, i + 1, j + 1, { text: v, formula: false, bold: false, filled: false })));
  const res = detectSheet(g, undefined, mapping, undefined, limits);
  if ('failure' in res)
    throw new QuestionnaireParseError('no_questions', `No questions found in the CSV file: ${res.failure}. Use a mapping to name the question column.`);
  if (!res.questions.length)
    throw new QuestionnaireParseError('no_questions', `The CSV file has a question column (${res.layout.questionColumn}) but no question rows.`);
  return { format: 'csv', sheets: [res.layout], questions: res.questions, warnings: res.notes };
}
