// Hostile upload files, generated compactly: the ones of the 2026-12-02 security review (used by
// test/formats/*.test.ts at test size and by scripts/replay-hostile.ts at full size).
import zlib from 'node:zlib';

interface ZipPart {
  name: string;
  data: Buffer | (() => Iterable<Buffer>);
  declaredSize?: number;
}

/**
 * A ZIP (deflate) of the parts. A part's data may be a generator of chunks, deflated as a stream so
 * a GiB of content never sits in memory; `declaredSize` makes the directory lie about its size.
 */
export function zipOf(parts: ZipPart[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const p of parts) {
    const chunks = Buffer.isBuffer(p.data) ? [p.data] : p.data();
    let crc = 0;
    let size = 0;
    const deflated: Buffer[] = [];
    // Each chunk is its own run of deflate blocks (sync-flushed, not final); a final empty block ends the stream.
    const cache = new Map<Buffer, Buffer>();
    for (const c of chunks) {
      crc = zlib.crc32(c, crc);
      size += c.length;
      let d = cache.get(c);
      if (!d) {
        d = zlib.deflateRawSync(c, { level: 6, finishFlush: zlib.constants.Z_SYNC_FLUSH });
        cache.set(c, d);
      }
      deflated.push(d);
    }
    deflated.push(zlib.deflateRawSync(Buffer.alloc(0)));
    const body = Buffer.concat(deflated);
    const declared = p.declaredSize ?? size;
    const name = Buffer.from(p.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(declared, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0, 8);
    cd.writeUInt16LE(8, 10);
    cd.writeUInt32LE(crc >>> 0, 16);
    cd.writeUInt32LE(body.length, 20);
    cd.writeUInt32LE(declared, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    central.push(cd, name);
    offset += 30 + name.length + body.length;
  }
  const cdBuf = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(parts.length, 8);
  eocd.writeUInt16LE(parts.length, 10);
  eocd.writeUInt32LE(cdBuf.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cdBuf, eocd]);
}

const CONTENT_TYPES =
  '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>';
const ROOT_RELS =
  '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>';
const WORKBOOK =
  '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>';
const WORKBOOK_RELS =
  '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>';
const SHEET_HEAD = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>';
const SHEET_TAIL = '</sheetData></worksheet>';

const col = (n: number) => {
  let s = '';
  for (let x = n; x > 0; x = Math.floor((x - 1) / 26)) s = String.fromCharCode(65 + ((x - 1) % 26)) + s;
  return s;
};
const inline = (ref: string, text: string) => `<c r="${ref}" t="inlineStr"><is><t>${text}</t></is></c>`;

function xlsxOf(sheet: ZipPart['data'], declaredSize?: number): Buffer {
  const b = (s: string) => Buffer.from(s);
  return zipOf([
    { name: '[Content_Types].xml', data: b(CONTENT_TYPES) },
    { name: '_rels/.rels', data: b(ROOT_RELS) },
    { name: 'xl/workbook.xml', data: b(WORKBOOK) },
    { name: 'xl/_rels/workbook.xml.rels', data: b(WORKBOOK_RELS) },
    { name: 'xl/worksheets/sheet1.xml', data: sheet, ...(declaredSize !== undefined ? { declaredSize } : {}) },
  ]);
}

/**
 * Finding 2: an SoA workbook whose sheet declares `declared` bytes but inflates to `inflated`
 * bytes (a valid header row, then whitespace).
 */
export function lyingSoaWorkbook(inflated: number, declared = 1000): Buffer {
  const header = ['ref', 'applicable', 'status', 'implementation', 'responsibility'].map((h, i) => inline(`${col(i + 1)}1`, h)).join('');
  const head = Buffer.from(`${SHEET_HEAD}<row r="1">${header}</row>`);
  const tail = Buffer.from(SHEET_TAIL);
  const chunk = Buffer.alloc(1024 * 1024, 0x20);
  return xlsxOf(function* () {
    yield head;
    let left = inflated - head.length - tail.length;
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      yield n === chunk.length ? chunk : chunk.subarray(0, n);
      left -= n;
    }
    yield tail;
  }, declared);
}

/** Finding 9: a workbook of `cells` tiny numeric cells, `perRow` to a row (the review's had 3.7 M). */
export function manyCellsWorkbook(cells: number, perRow = 100): Buffer {
  const rows = Math.ceil(cells / perRow);
  return xlsxOf(function* () {
    yield Buffer.from(SHEET_HEAD);
    const q = inline('A1', 'Question') + inline('B1', 'Answer');
    yield Buffer.from(`<row r="1">${q}</row>`);
    let left = cells;
    // Rows are gathered into ~1 MiB chunks so deflate sees enough context to compress well.
    let batch: string[] = [];
    let batched = 0;
    for (let r = 2; r <= rows + 1 && left > 0; r++) {
      const n = Math.min(perRow, left);
      let s = `<row r="${r}">`;
      for (let c = 1; c <= n; c++) s += `<c r="${col(c)}${r}"><v>${c}</v></c>`;
      left -= n;
      batch.push(`${s}</row>`);
      batched += s.length;
      if (batched > 1024 * 1024) {
        yield Buffer.from(batch.join(''));
        batch = [];
        batched = 0;
      }
    }
    if (batch.length) yield Buffer.from(batch.join(''));
    yield Buffer.from(SHEET_TAIL);
  });
}

/** Finding 1: VSAQ blocks nested `depth` deep, each with a long title and one question. */
export function nestedVsaq(depth: number, titleChars: number): Buffer {
  const open: string[] = [];
  const title = 'T'.repeat(titleChars);
  for (let i = 0; i < depth; i++) {
    open.push(`{"type":"block","text":"${title} ${i}","items":[{"type":"yesno","id":"q${i}","text":"Is control ${i} in place?"},`);
  }
  return Buffer.from(`{"questionnaire":[${open.join('')}{"type":"line","id":"last","text":"Anything else?"}${']}'.repeat(depth)}]}`);
}

/** Finding 9: a CSV questionnaire of about `bytes` bytes (one question per row). */
export function bigCsv(bytes: number): Buffer {
  const lines = ['ID,Question,Answer'];
  let n = lines[0]!.length + 1;
  for (let i = 1; n < bytes; i++) {
    const line = `Q${i},Do you encrypt customer data at rest in system ${i}?,`;
    lines.push(line);
    n += line.length + 1;
  }
  return Buffer.from(lines.join('\n') + '\n');
}

/** Finding 9: a CSV whose only question is one cell of `chars` characters. */
export function oneCellCsv(chars: number): Buffer {
  return Buffer.concat([Buffer.from('ID,Question\nQ1,"Do you '), Buffer.alloc(chars, 'a'), Buffer.from('?"\n')]);
}
