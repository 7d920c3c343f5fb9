// CSV from untrusted uploads: csv-parse with the caps applied while it reads (record size, cells,
// rows, columns, characters per cell), so a huge file or a single huge cell stops early.
import { parse as parseCsv, type Options } from 'csv-parse/sync';
import { limitError } from './errors.js';
import type { ParseLimits } from './limits.js';

class CsvLimit extends Error {}

export function readCsvRecords(text: string, delimiter: string, limits: ParseLimits, extra: Pick<Options, 'bom'> = {}): string[][] {
  let rows = 0;
  let cells = 0;
  try {
    return parseCsv(text, {
      ...extra,
      delimiter,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: false,
      // Counted in characters by csv-parse while it fills its buffers, before the field string exists.
      max_record_size: limits.maxRecordChars,
      on_record: (rec: string[]) => {
        if (++rows > limits.maxRows) throw new CsvLimit(`The file has more than ${limits.maxRows.toLocaleString('en')} rows (limit: rows).`);
        if (rec.length > limits.maxColumns)
          throw new CsvLimit(`Row ${rows} has ${rec.length} columns; at most ${limits.maxColumns} are accepted (limit: columns).`);
        cells += rec.length;
        if (cells > limits.maxCells) throw new CsvLimit(`The file has more than ${limits.maxCells.toLocaleString('en')} cells (limit: cells).`);
        for (const v of rec) {
          if (v.length > limits.maxCellChars)
            throw new CsvLimit(
              `A cell in row ${rows} holds ${v.length.toLocaleString('en')} characters; at most ${limits.maxCellChars.toLocaleString('en')} are accepted (limit: characters per cell).`,
            );
        }
        return rec;
      },
    }) as string[][];
  } catch (err) {
    if (err instanceof CsvLimit) throw limitError(err.message);
    if ((err as { code?: string }).code === 'CSV_MAX_RECORD_SIZE') {
      throw limitError(
        `A row holds more than ${limits.maxRecordChars.toLocaleString('en')} characters (limit: characters per row); the longest accepted cell is ${limits.maxCellChars.toLocaleString('en')} characters.`,
      );
    }
    throw err;
  }
}
