// Spreadsheet column letters and numbers (A = 1, Z = 26, AA = 27): one converter for the reader
// and the write-back, so the two never disagree on a cell.

export function columnLetter(n: number): string {
  let s = '';
  for (let x = n; x > 0; x = Math.floor((x - 1) / 26)) s = String.fromCharCode(65 + ((x - 1) % 26)) + s;
  return s;
}

/** Case-insensitive: `ab` is column 28, as `AB` is. */
export function columnNumber(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n;
}
