// What an upload is, by its bytes: a ZIP package, an OLE file (encrypted or legacy Office), a known
// binary, markup saved as .xls, or text (decoded, or refused as binary).
import { QuestionnaireParseError } from '../errors.js';

export const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
export const OLE_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

export function startsWith(b: Buffer, magic: number[]): boolean {
  return b.length >= magic.length && magic.every((v, i) => b[i] === v);
}

function containsName(bytes: Buffer, name: string): boolean {
  // OLE directory entries store names in UTF-16LE; look for both encodings.
  return bytes.includes(Buffer.from(name, 'utf16le')) || bytes.includes(Buffer.from(name, 'latin1'));
}

// OLE compound file: an encrypted OOXML package (EncryptedPackage stream) or a legacy Office file.
export function oleError(bytes: Buffer, ext: string): QuestionnaireParseError {
  if (containsName(bytes, 'EncryptedPackage')) {
    return new QuestionnaireParseError(
      'encrypted',
      'The workbook is password-protected (encrypted). Open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password) and upload it again.',
    );
  }
  if (containsName(bytes, 'Workbook') || containsName(bytes, 'Book') || ext === '.xls') {
    return new QuestionnaireParseError(
      'not_a_spreadsheet',
      'This is a legacy Excel 97-2003 workbook (.xls), which is not supported. Open it in Excel or LibreOffice and save it as .xlsx (Excel Workbook), then upload that.',
    );
  }
  return new QuestionnaireParseError(
    'not_a_spreadsheet',
    'This is a legacy Office document (OLE compound file), not a spreadsheet we can read. Save the questionnaire as .xlsx or .csv and upload that.',
  );
}

export function knownBinary(b: Buffer): string | undefined {
  const s = b.subarray(0, 8).toString('latin1');
  if (s.startsWith('%PDF')) return 'a PDF document';
  if (s.startsWith('\x89PNG')) return 'a PNG image';
  if (s.startsWith('GIF8')) return 'a GIF image';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'a JPEG image';
  if (b[0] === 0x1f && b[1] === 0x8b) return 'a gzip archive';
  if (s.startsWith('Rar!')) return 'a RAR archive';
  if (s.startsWith('7z\xbc\xaf')) return 'a 7-Zip archive';
  return undefined;
}

// Text files: UTF-8 (BOM optional), UTF-16 with BOM (Excel "Unicode text"), else Windows-1252; NULs or many control characters mean binary.
export function decodeText(bytes: Buffer): string {
  let text: string;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) text = new TextDecoder('utf-16le').decode(bytes.subarray(2));
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) text = new TextDecoder('utf-16be').decode(bytes.subarray(2));
  else {
    const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
    if (body.subarray(0, 65536).includes(0)) throw notText();
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      text = new TextDecoder('windows-1252').decode(body);
    }
  }
  const sample = text.slice(0, 65536);
  let control = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if ((c < 0x20 && c !== 9 && c !== 10 && c !== 13) || c === 0x7f || c === 0xfffd) control++;
  }
  if (control > Math.max(2, sample.length * 0.01)) throw notText();
  return text;
}

const notText = () =>
  new QuestionnaireParseError(
    'not_a_spreadsheet',
    'The file is neither an Excel workbook (.xlsx), a CSV file nor JSON: its bytes are binary. Upload the questionnaire as .xlsx, .csv or .json.',
  );

// HTML tables and Excel 2003 XML are often saved with an .xls name; say how to convert them.
export function markupKind(head: string): string | undefined {
  const h = head.toLowerCase();
  if (h.startsWith('<?xml') && h.includes('urn:schemas-microsoft-com:office:spreadsheet')) {
    return 'This is an Excel 2003 XML spreadsheet, which is not supported. Open it in Excel and save it as .xlsx (Excel Workbook), then upload that.';
  }
  if (/^(<!doctype html|<html|<table|<meta|<head)/.test(h)) {
    return 'This is an HTML page (some tools export "Excel" files as HTML). Open it in Excel and save it as .xlsx, or export the questionnaire as CSV.';
  }
  return undefined;
}
