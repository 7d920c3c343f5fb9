// ZIP packages (XLSX) from untrusted uploads: the central directory is read without inflating
// anything, the declared sizes are checked against the limits, and each part is inflated with its
// declared size as a hard output cap, so a part that lies about its size fails instead of growing.
import zlib from 'node:zlib';
import { QuestionnaireParseError, limitError, mib } from './errors.js';
import { EDITOR_LIMITS, type ParseLimits } from './limits.js';

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  uncompressedSize: number;
  offset: number;
}

const corrupt = (what: string) => new QuestionnaireParseError('corrupt', `The workbook is damaged: ${what}. Re-save it from Excel and upload it again.`);

export function readZipDirectory(buf: Buffer, maxEntries = EDITOR_LIMITS.maxZipEntries): ZipEntry[] {
  if (buf.length < 22) throw corrupt('the ZIP directory is missing (truncated upload?)');
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw corrupt('the ZIP directory is missing (truncated upload?)');
  let count = buf.readUInt16LE(eocd + 10);
  let cdSize = buf.readUInt32LE(eocd + 12);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc >= 0 && buf.readUInt32LE(loc) === 0x07064b50) {
      const rec = Number(buf.readBigUInt64LE(loc + 8));
      if (rec + 56 <= buf.length && buf.readUInt32LE(rec) === 0x06064b50) {
        count = Number(buf.readBigUInt64LE(rec + 32));
        cdSize = Number(buf.readBigUInt64LE(rec + 40));
        cdOffset = Number(buf.readBigUInt64LE(rec + 48));
      }
    }
  }
  if (count > maxEntries) throw limitError(`The workbook package has ${count} parts; at most ${maxEntries} are accepted (limit: ZIP entries).`);
  if (cdOffset + cdSize > buf.length) throw corrupt('the ZIP directory points outside the file');
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) throw corrupt('a ZIP directory entry is invalid');
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    let compressedSize = buf.readUInt32LE(p + 20);
    let uncompressedSize = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let offset = buf.readUInt32LE(p + 42);
    if (p + 46 + nameLen + extraLen > buf.length) throw corrupt('a ZIP directory entry is cut off');
    const name = buf.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    // ZIP64: the real sizes and offset are in the 0x0001 extra field.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = buf.readUInt16LE(e);
      const size = buf.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        const next = () => {
          const v = q + 8 <= e + 4 + size ? Number(buf.readBigUInt64LE(q)) : undefined;
          q += 8;
          return v;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = next() ?? uncompressedSize;
        if (compressedSize === 0xffffffff) compressedSize = next() ?? compressedSize;
        if (offset === 0xffffffff) offset = next() ?? offset;
      }
      e += 4 + size;
    }
    entries.push({ name, method, flags, compressedSize, uncompressedSize, offset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

// Zip bombs: the declared uncompressed total must stay under 100 MiB and 200x the file size (checked before inflating anything).
export function checkZipLimits(entries: ZipEntry[], fileSize: number, limits: ParseLimits): void {
  const total = entries.reduce((s, x) => s + x.uncompressedSize, 0);
  const { maxUncompressedBytes, maxCompressionRatio, minRatioCheckBytes } = limits;
  if (total > maxUncompressedBytes) {
    throw new QuestionnaireParseError(
      'too_large',
      `The workbook expands to ${mib(total)} when unpacked; the limit is ${mib(maxUncompressedBytes)} (limit: uncompressed bytes).`,
    );
  }
  if (total > minRatioCheckBytes && total / fileSize > maxCompressionRatio) {
    throw new QuestionnaireParseError(
      'too_large',
      `The workbook expands ${Math.round(total / fileSize)}:1 when unpacked (limit: compression ratio ${maxCompressionRatio}:1); it looks like a zip bomb.`,
    );
  }
}

// Inflate with the declared size as a hard cap, so an entry that lies about its size cannot blow up memory.
export function extractEntry(buf: Buffer, e: ZipEntry): Buffer {
  if (e.flags & 0x1)
    throw new QuestionnaireParseError(
      'encrypted',
      'The workbook package is encrypted (password-protected ZIP entries). Remove the password and upload it again.',
    );
  const p = e.offset;
  if (p + 30 > buf.length || buf.readUInt32LE(p) !== 0x04034b50) throw corrupt(`the part "${e.name}" has no valid local header`);
  const start = p + 30 + buf.readUInt16LE(p + 26) + buf.readUInt16LE(p + 28);
  if (start + e.compressedSize > buf.length) throw corrupt(`the part "${e.name}" is cut off`);
  const data = buf.subarray(start, start + e.compressedSize);
  let out: Buffer;
  if (e.method === 0) out = data;
  else if (e.method === 8) {
    if (e.uncompressedSize === 0) return Buffer.alloc(0);
    try {
      out = zlib.inflateRawSync(data, { maxOutputLength: e.uncompressedSize });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        throw new QuestionnaireParseError(
          'too_large',
          `The part "${e.name}" expands beyond its declared size (limit: declared size); the workbook looks like a zip bomb.`,
        );
      }
      throw corrupt(`the part "${e.name}" cannot be decompressed`);
    }
  } else throw corrupt(`the part "${e.name}" uses an unsupported compression method (${e.method})`);
  if (out.length !== e.uncompressedSize) throw corrupt(`the part "${e.name}" has the wrong size`);
  return out;
}

/**
 * Every part of a package, inflated under the limits: the declared sizes are checked first, each
 * part is capped at its declared size while it inflates, and the bytes actually produced are
 * counted against the same total.
 */
export function openPackage(buf: Buffer, limits: ParseLimits): { entries: ZipEntry[]; files: Map<string, Buffer> } {
  const entries = readZipDirectory(buf, limits.maxZipEntries);
  checkZipLimits(entries, buf.length, limits);
  const files = new Map<string, Buffer>();
  let produced = 0;
  for (const e of entries) {
    if (e.name.endsWith('/')) continue;
    const data = extractEntry(buf, e);
    produced += data.length;
    if (produced > limits.maxUncompressedBytes)
      throw limitError(`The workbook expands to more than ${mib(limits.maxUncompressedBytes)} when unpacked (limit: uncompressed bytes).`);
    files.set(e.name.replace(/^\//, ''), data);
  }
  return { entries, files };
}

const isTagEnd = (c: number | undefined) => c === 0x20 || c === 0x3e || c === 0x2f || c === 0x09 || c === 0x0a || c === 0x0d;

/** Counts `<tag ...>` openings in XML bytes without decoding them (a Buffer scan, no strings built). */
function countTags(xml: Buffer, tag: string, stopAt: number): number {
  const needle = Buffer.from(`<${tag}`);
  let n = 0;
  for (let i = xml.indexOf(needle); i !== -1; i = xml.indexOf(needle, i + needle.length)) {
    if (!isTagEnd(xml[i + needle.length])) continue;
    if (++n > stopAt) return n;
  }
  return n;
}

/** The tally of cells over all sheets of one workbook. */
export interface CellTally {
  cells: number;
}

/**
 * Worksheet XML checked before any cell object or string is made: cells over all sheets, rows per
 * sheet, and the longest run of text between tags (an upper bound of one cell's text).
 */
export function scanSheetXml(xml: Buffer, sheet: string, limits: ParseLimits, tally: CellTally): void {
  const cells = countTags(xml, 'c', limits.maxCells - tally.cells);
  tally.cells += cells;
  if (tally.cells > limits.maxCells)
    throw limitError(`The workbook has more than ${limits.maxCells.toLocaleString('en')} cells (limit: cells; the sheet "${sheet}" passes it).`);
  const rows = countTags(xml, 'row', limits.maxRows);
  if (rows > limits.maxRows) throw limitError(`The sheet "${sheet}" has more than ${limits.maxRows.toLocaleString('en')} rows (limit: rows).`);
  checkTextRuns(xml, limits, `the sheet "${sheet}"`);
}

/** Shared strings (and any other XML part with cell text): no run of text longer than the cell limit allows. */
export function checkTextRuns(xml: Buffer, limits: ParseLimits, where: string): void {
  // An entity (&amp;) is at most 10 bytes for one character, and UTF-8 at most 4 bytes per character.
  const maxRun = limits.maxCellChars * 10;
  for (let i = xml.indexOf(0x3e); i !== -1; i = xml.indexOf(0x3e, i + 1)) {
    const next = xml.indexOf(0x3c, i + 1);
    const end = next === -1 ? xml.length : next;
    if (end - i - 1 > maxRun)
      throw limitError(`A cell in ${where} holds more than ${limits.maxCellChars.toLocaleString('en')} characters (limit: characters per cell).`);
    if (next === -1) break;
    i = next;
  }
}
