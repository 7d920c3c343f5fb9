// Uploaded policy documents (PDF, DOCX, Markdown, HTML, plain text) read into short passages that
// an answer can cite: each passage keeps its page (PDF) and the heading it sits under. Runs inside a
// parser worker (src/formats/tasks.ts), so the heap cap and deadline of the pool bound it; the caps
// here bound the result and the work done before it.
import path from 'node:path';
import { createRequire } from 'node:module';
import { Parser } from 'htmlparser2';
import JSZip from 'jszip';
import mammoth from 'mammoth';
import { Lexer, type Token, type Tokens } from 'marked';
import type * as PdfJs from 'pdfjs-dist/legacy/build/pdf.mjs';
import { QuestionnaireParseError } from './errors.js';
import { EDITOR_LIMITS } from './limits.js';
import { openPackage, readZipDirectory } from './zip.js';

export interface Passage {
  text: string;
  page?: number;
  heading?: string;
}
export interface ExtractedText {
  format: 'pdf' | 'docx' | 'markdown' | 'html' | 'text';
  passages: Passage[];
  pages?: number;
  scanned: boolean;
  truncated: boolean;
}
type TextFormat = ExtractedText['format'];

/** Caps of the result (past them the rest is dropped and `truncated` set) and of the work. */
export const TEXT_LIMITS = {
  maxPassages: 2_000,
  maxChars: 2_000_000,
  maxPdfPages: 2_000,
  /** Consecutive paragraphs of one section are merged up to this length. */
  mergeChars: 900,
  /** No passage is longer: longer paragraphs are split at sentence boundaries. */
  maxPassageChars: 1_200,
  maxHeadingChars: 200,
  /** Fewer non-space characters per page than this, on average, means a scan without a text layer. */
  scannedCharsPerPage: 20,
};

const unsupported = (what: string) =>
  new QuestionnaireParseError('unsupported', `${what} Upload the policy as PDF, Word (.docx), Markdown, HTML or plain text.`);

// ---------------------------------------------------------------------------------------------
// Format detection
// ---------------------------------------------------------------------------------------------

const startsWith = (b: Buffer, s: string) => b.length >= s.length && b.subarray(0, s.length).toString('latin1') === s;
const isZip = (b: Buffer) => startsWith(b, 'PK\x03\x04') || startsWith(b, 'PK\x05\x06');

function hintOf(opts: { fileName?: string; contentType?: string }): TextFormat | undefined {
  const type = (opts.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const ext = opts.fileName ? path.extname(opts.fileName).toLowerCase() : '';
  if (type === 'application/pdf' || ext === '.pdf') return 'pdf';
  if (type === 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' || ext === '.docx') return 'docx';
  // A specific content type wins over the extension; text/plain and octet-stream say little
  // (browsers send them for .md files), so the extension decides then.
  if (type === 'text/html' || type === 'application/xhtml+xml') return 'html';
  if (type === 'text/markdown' || type === 'text/x-markdown') return 'markdown';
  if (ext === '.md' || ext === '.markdown') return 'markdown';
  if (ext === '.html' || ext === '.htm' || ext === '.xhtml') return 'html';
  if (ext === '.txt' || ext === '.text' || type === 'text/plain') return 'text';
  return undefined;
}

/** The format of an upload: magic bytes first (PDF, a ZIP holding word/document.xml), then content type and extension. */
export function detectTextFormat(bytes: Buffer, opts: { fileName?: string; contentType?: string }): TextFormat | undefined {
  if (startsWith(bytes, '%PDF-')) return 'pdf';
  const hint = hintOf(opts);
  if (isZip(bytes)) {
    try {
      return readZipDirectory(bytes, EDITOR_LIMITS.maxZipEntries).some((e) => e.name.replace(/^\//, '') === 'word/document.xml') ? 'docx' : undefined;
    } catch {
      // A damaged ZIP named as a DOCX is read as one, so the person gets "damaged", not "unsupported".
      return hint === 'docx' ? 'docx' : undefined;
    }
  }
  if (binaryKind(bytes)) return undefined;
  // PDF and DOCX are only ever recognized by their bytes: a name alone cannot make a file one.
  return hint === 'pdf' || hint === 'docx' ? undefined : hint;
}

function binaryKind(b: Buffer): string | undefined {
  const s = b.subarray(0, 8).toString('latin1');
  if (s.startsWith('\x89PNG')) return 'a PNG image';
  if (s.startsWith('GIF8')) return 'a GIF image';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'a JPEG image';
  if (s.startsWith('II*\x00') || s.startsWith('MM\x00*')) return 'a TIFF image';
  if (s.startsWith('RIFF') && b.subarray(8, 12).toString('latin1') === 'WEBP') return 'a WebP image';
  if (s.startsWith('\xd0\xcf\x11\xe0')) return 'a legacy Office file (.doc/.xls) or a password-protected document';
  if (b[0] === 0x1f && b[1] === 0x8b) return 'a gzip archive';
  if (s.startsWith('Rar!')) return 'a RAR archive';
  if (s.startsWith('7z\xbc\xaf')) return 'a 7-Zip archive';
  return undefined;
}

function refusal(bytes: Buffer, opts: { fileName?: string; contentType?: string }): QuestionnaireParseError {
  if (bytes.length === 0) return unsupported('The file is empty.');
  if (isZip(bytes)) {
    let names: Set<string> | undefined;
    try {
      names = new Set(readZipDirectory(bytes, EDITOR_LIMITS.maxZipEntries).map((e) => e.name.replace(/^\//, '')));
    } catch {
      names = undefined;
    }
    if (names?.has('xl/workbook.xml')) return unsupported('This is an Excel workbook, not a policy document.');
    if (names?.has('ppt/presentation.xml')) return unsupported('This is a PowerPoint presentation.');
    return unsupported('This ZIP archive is not a Word document (it has no word/document.xml).');
  }
  const binary = binaryKind(bytes);
  if (binary) return unsupported(`This is ${binary}, which is not supported.`);
  const hint = hintOf(opts);
  if (hint === 'pdf') return new QuestionnaireParseError('corrupt', 'The file is named as a PDF but does not start like one; it is damaged or was renamed.');
  if (hint === 'docx')
    return new QuestionnaireParseError('corrupt', 'The file is named as a Word document but is not a ZIP package; it is damaged or was renamed.');
  return unsupported(
    `The format of ${opts.fileName ? `"${opts.fileName}"` : 'the file'} is not recognized${opts.contentType ? ` (${opts.contentType})` : ''}.`,
  );
}

// ---------------------------------------------------------------------------------------------
// Passages: the one splitting rule for every format
// ---------------------------------------------------------------------------------------------

const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();

// A sentence ends at . ! or ? (optionally closed by a quote or bracket) followed by a space and a capital.
const SENTENCE_END = /[.!?]["'\u2019\u201d)\]]?(?= \p{Lu})/gu;

/** A paragraph cut into pieces of at most max characters: at sentence ends, else at spaces, else anywhere. */
export function splitParagraph(text: string, target: number, max: number): string[] {
  if (text.length <= max) return [text];
  const sentences: string[] = [];
  let from = 0;
  for (const m of text.matchAll(SENTENCE_END)) {
    const end = m.index + m[0].length;
    sentences.push(text.slice(from, end).trim());
    from = end;
  }
  sentences.push(text.slice(from).trim());
  const pieces: string[] = [];
  let cur = '';
  for (const s of sentences.flatMap((x) => (x.length > max ? hardSplit(x, max) : [x]))) {
    if (!s) continue;
    if (cur && cur.length + 1 + s.length > target) {
      pieces.push(cur);
      cur = s;
    } else cur = cur ? `${cur} ${s}` : s;
  }
  if (cur) pieces.push(cur);
  return pieces;
}

// A "sentence" longer than a passage (a list without full stops): cut at the last space that fits.
function hardSplit(s: string, max: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (rest.length > max) {
    let cut = rest.lastIndexOf(' ', max);
    if (cut < max / 2) cut = max;
    out.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest) out.push(rest);
  return out;
}

/**
 * Collects paragraphs in reading order and builds the passages: paragraphs of one section (same
 * page and heading) are merged up to mergeChars, never across a page or heading. Past the caps
 * it drops the rest and says so (`full`), so the readers can stop early.
 */
export class PassageBuilder {
  readonly passages: Passage[] = [];
  truncated = false;
  private chars = 0;
  private cur: Passage | undefined;

  constructor(private readonly limits = TEXT_LIMITS) {}

  get full(): boolean {
    return this.truncated;
  }

  add(raw: string, where: { page?: number; heading?: string }): void {
    if (this.truncated) return;
    // Only what can still fit is split (a huge paragraph is not cut up only to be dropped).
    const room = this.limits.maxChars - this.chars + this.limits.maxPassageChars;
    const text = collapse(raw.length > room * 2 ? raw.slice(0, room * 2) : raw);
    if (!text) return;
    if (this.cur && (this.cur.page !== where.page || this.cur.heading !== where.heading)) this.flush();
    for (const piece of splitParagraph(text, this.limits.mergeChars, this.limits.maxPassageChars)) {
      if (this.cur && this.cur.text.length + 1 + piece.length <= this.limits.mergeChars) {
        this.cur.text += `\n${piece}`;
        continue;
      }
      this.flush();
      if (this.truncated) return;
      this.cur = { text: piece };
      if (where.page !== undefined) this.cur.page = where.page;
      if (where.heading !== undefined) this.cur.heading = where.heading;
    }
  }

  /** Ends the current passage (a new page or heading starts). */
  flush(): void {
    const p = this.cur;
    this.cur = undefined;
    if (!p || this.truncated) return;
    if (this.passages.length >= this.limits.maxPassages || this.chars + p.text.length > this.limits.maxChars) {
      this.truncated = true;
      return;
    }
    this.chars += p.text.length;
    this.passages.push(p);
  }

  finish(): Passage[] {
    this.flush();
    return this.passages;
  }
}

/** Headings seen so far, by level: the passage heading is the path "Parent > Child", at most maxHeadingChars. */
class Outline {
  private levels: string[] = [];

  set(level: number, raw: string): void {
    const text = collapse(raw);
    if (!text) return;
    this.levels = this.levels.slice(0, level - 1);
    this.levels[level - 1] = text;
  }

  get heading(): string | undefined {
    const parts = this.levels.filter(Boolean);
    if (parts.length === 0) return undefined;
    const max = TEXT_LIMITS.maxHeadingChars;
    // Ancestors are dropped first: the nearest heading says most about the passage.
    while (parts.length > 1 && parts.join(' > ').length > max) parts.shift();
    const h = parts.join(' > ');
    return h.length > max ? `${h.slice(0, max - 1)}…` : h;
  }
}

// ---------------------------------------------------------------------------------------------
// Readers
// ---------------------------------------------------------------------------------------------

export async function extractText(bytes: Buffer, opts: { fileName?: string; contentType?: string }): Promise<ExtractedText> {
  const format = detectTextFormat(bytes, opts);
  if (!format || bytes.length === 0) throw refusal(bytes, opts);
  const out = new PassageBuilder();
  if (format === 'pdf') {
    const { pages, scanned } = await readPdf(bytes, out);
    const result: ExtractedText = { format, passages: scanned ? [] : out.finish(), pages, scanned, truncated: out.truncated };
    return result;
  }
  if (format === 'docx') readHtml(await docxToHtml(bytes), out);
  else {
    const text = decodeText(bytes);
    if (format === 'html') readHtml(text, out);
    else if (format === 'markdown') readMarkdown(text, out);
    else
      for (const para of text.split(/\n[ \t]*\r?\n/)) {
        out.add(para, {});
        if (out.full) break;
      }
  }
  return { format, passages: out.finish(), scanned: false, truncated: out.truncated };
}

// UTF-8 (BOM optional) or UTF-16 with a BOM, else Windows-1252; NULs mean a binary file.
function decodeText(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  if (body.subarray(0, 65536).includes(0)) throw unsupported('The file is binary, not text.');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return new TextDecoder('windows-1252').decode(body);
  }
}

// --- HTML (and DOCX, through mammoth's HTML) ---

const SKIP = new Set(['script', 'style', 'nav', 'noscript', 'template', 'head', 'svg', 'math', 'iframe', 'object']);
const BLOCK = new Set([
  'p',
  'li',
  'td',
  'th',
  'tr',
  'div',
  'section',
  'article',
  'main',
  'aside',
  'header',
  'footer',
  'blockquote',
  'pre',
  'dd',
  'dt',
  'dl',
  'ul',
  'ol',
  'table',
  'caption',
  'figcaption',
  'figure',
  'address',
  'br',
  'hr',
  'body',
]);

/** Text of HTML in reading order: h1–h6 set the heading, block elements end a paragraph. */
export function readHtml(html: string, out: PassageBuilder, outline = new Outline()): void {
  let skip = 0;
  let headingLevel = 0;
  let headingText = '';
  let buf = '';
  const flushText = () => {
    if (buf) out.add(buf, headingOf());
    buf = '';
  };
  const headingOf = () => {
    const h = outline.heading;
    return h === undefined ? {} : { heading: h };
  };
  const parser = new Parser(
    {
      onopentag(name) {
        if (SKIP.has(name)) {
          skip++;
          return;
        }
        if (skip) return;
        const level = /^h([1-6])$/.exec(name)?.[1];
        if (level) {
          flushText();
          headingLevel = Number(level);
          headingText = '';
        } else if (BLOCK.has(name)) {
          if (headingLevel) headingText += ' ';
          else flushText();
        }
      },
      ontext(text) {
        if (skip || out.full) return;
        if (headingLevel) headingText += text;
        else buf += text;
      },
      onclosetag(name) {
        if (SKIP.has(name)) {
          if (skip > 0) skip--;
          return;
        }
        if (skip) return;
        if (/^h[1-6]$/.test(name) && headingLevel) {
          outline.set(headingLevel, headingText);
          headingLevel = 0;
          // A new section: the passage before it ends here, even if the heading was empty.
          out.flush();
        } else if (BLOCK.has(name)) flushText();
      },
    },
    { decodeEntities: true, lowerCaseTags: true, recognizeSelfClosing: true },
  );
  parser.write(html);
  parser.end();
  flushText();
}

// --- DOCX ---

/**
 * A Word document as HTML. The package is opened under the ZIP limits of zip.ts first (declared
 * sizes, compression ratio, each part capped at its declared size), and mammoth gets a new package
 * of the checked parts only, without images: it never inflates anything unchecked.
 */
async function docxToHtml(bytes: Buffer): Promise<string> {
  let files: Map<string, Buffer>;
  try {
    files = openPackage(bytes, EDITOR_LIMITS).files;
  } catch (err) {
    // zip.ts words its messages for workbooks.
    if (err instanceof QuestionnaireParseError) {
      throw new QuestionnaireParseError(err.code, err.message.replace(/\bworkbook\b/gi, 'document').replace('from Excel', 'from Word'), { cause: err });
    }
    throw err;
  }
  if (!files.has('word/document.xml')) throw new QuestionnaireParseError('corrupt', 'The Word document is damaged: it has no word/document.xml.');
  const zip = new JSZip();
  for (const [name, data] of files) {
    if (/^word\/(media|embeddings)\//i.test(name)) continue;
    zip.file(name, data, { compression: 'STORE' });
  }
  const clean = await zip.generateAsync({ type: 'nodebuffer', compression: 'STORE' });
  const result = await mammoth.convertToHtml(
    { buffer: clean },
    // Images are not text: none is read (no base64 in the HTML), and a linked image never makes
    // mammoth open a path on this machine; externalFileAccess says the same for any other link.
    { convertImage: mammoth.images.imgElement(async () => ({ src: '' })), externalFileAccess: false },
  );
  return result.value;
}

// --- Markdown ---

/** Markdown through marked's lexer: ATX and setext headings set the heading; code blocks stay text. */
export function readMarkdown(src: string, out: PassageBuilder): void {
  const outline = new Outline();
  const where = () => {
    const h = outline.heading;
    return h === undefined ? {} : { heading: h };
  };
  const walk = (tokens: Token[]) => {
    for (const tok of tokens) {
      if (out.full) return;
      switch (tok.type) {
        case 'heading':
          out.flush();
          outline.set((tok as Tokens.Heading).depth, inline((tok as Tokens.Heading).tokens));
          break;
        case 'paragraph':
          out.add(inline((tok as Tokens.Paragraph).tokens), where());
          break;
        case 'text': {
          const t = tok as Tokens.Text;
          out.add(t.tokens ? inline(t.tokens) : t.text, where());
          break;
        }
        case 'code':
          out.add((tok as Tokens.Code).text, where());
          break;
        case 'blockquote':
          walk((tok as Tokens.Blockquote).tokens);
          break;
        case 'list':
          for (const item of (tok as Tokens.List).items) walk(item.tokens);
          break;
        case 'table': {
          const t = tok as Tokens.Table;
          for (const row of [t.header, ...t.rows]) out.add(row.map((c) => inline(c.tokens)).join(' | '), where());
          break;
        }
        case 'html':
          // Raw HTML blocks: their text, under the current Markdown heading.
          readHtml((tok as Tokens.HTML).text, out, outline);
          break;
        default:
          // space, hr, def: no text.
          break;
      }
    }
  };
  walk(new Lexer({ gfm: true }).lex(src));
}

function inline(tokens: Token[] | undefined): string {
  if (!tokens) return '';
  let s = '';
  for (const tok of tokens) {
    if (tok.type === 'br') s += ' ';
    else if (tok.type === 'html') s += tok.raw.replace(/<[^>]*>/g, '');
    else if ('tokens' in tok && Array.isArray(tok.tokens) && tok.type !== 'codespan') s += inline(tok.tokens);
    else if ('text' in tok && typeof tok.text === 'string') s += tok.text;
  }
  return s;
}

// --- PDF ---

interface PdfTextItem {
  str: string;
  transform: number[];
  width: number;
  height: number;
  hasEOL: boolean;
}
interface Line {
  text: string;
  y: number;
  size: number;
}

let pdfjsLoaded: Promise<typeof PdfJs> | undefined;

// pdf.js runs its parser on this thread (a "fake worker"): the module of the worker is loaded and
// published as globalThis.pdfjsWorker, which pdf.js uses instead of starting a worker of its own.
function loadPdfjs() {
  pdfjsLoaded ??= (async () => {
    // pdfjs-dist ships no types for the worker module; through a variable, TypeScript does not look for any.
    const workerModule: string = 'pdfjs-dist/legacy/build/pdf.worker.mjs';
    const worker: unknown = await import(workerModule);
    (globalThis as { pdfjsWorker?: unknown }).pdfjsWorker = worker;
    return import('pdfjs-dist/legacy/build/pdf.mjs');
  })();
  return pdfjsLoaded;
}

const pdfjsDir = () => path.dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));

async function readPdf(bytes: Buffer, out: PassageBuilder): Promise<{ pages: number; scanned: boolean }> {
  const pdfjs = await loadPdfjs();
  const dir = pdfjsDir();
  // pdf.js takes over (detaches) the buffer it gets: give it a copy.
  const task = pdfjs.getDocument({
    data: new Uint8Array(bytes),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    // CMaps and the standard fonts' metrics, for text in CID fonts (CJK) that does not embed them.
    cMapUrl: `${dir}/cmaps/`,
    cMapPacked: true,
    standardFontDataUrl: `${dir}/standard_fonts/`,
    verbosity: 0,
  });
  let doc;
  try {
    doc = await task.promise;
  } catch (err) {
    await task.destroy();
    const name = (err as { name?: string }).name;
    if (name === 'PasswordException') {
      throw new QuestionnaireParseError('encrypted', 'The PDF is password-protected. Remove the password and upload it again.', { cause: err });
    }
    throw new QuestionnaireParseError(
      'corrupt',
      `The PDF cannot be read: ${String((err as Error)?.message ?? err).slice(0, 200)}. Re-save it and upload it again.`,
      { cause: err },
    );
  }
  try {
    const pages = doc.numPages;
    const last = Math.min(pages, TEXT_LIMITS.maxPdfPages);
    const outline = new Outline();
    let nonSpace = 0;
    for (let n = 1; n <= last && !out.full; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      page.cleanup();
      const lines = pdfLines(content.items as PdfTextItem[]);
      for (const l of lines) nonSpace += l.text.replace(/\s+/g, '').length;
      readPdfPage(lines, n, outline, out);
      out.flush();
    }
    // Pages past the cap are not read (set after the loop: the builder stops taking text once truncated).
    if (pages > last) out.truncated = true;
    // A scan: pages, but (almost) no text layer. There is nothing to cite without OCR.
    const scanned = last > 0 && nonSpace / last < TEXT_LIMITS.scannedCharsPerPage;
    return { pages, scanned };
  } finally {
    await doc.destroy();
  }
}

/** Text items joined into lines: a new line where the item says so (hasEOL) or the baseline moves. */
function pdfLines(items: PdfTextItem[]): Line[] {
  const lines: Line[] = [];
  let cur: Line | undefined;
  let endX = 0;
  let eol = false;
  for (const it of items) {
    if (typeof it.str !== 'string') continue; // marked-content markers
    const x = it.transform[4] ?? 0;
    const y = it.transform[5] ?? 0;
    const size = Math.abs(it.height) || Math.hypot(it.transform[2] ?? 0, it.transform[3] ?? 0) || 1;
    if (!cur || eol || Math.abs(y - cur.y) > Math.max(1, Math.min(size, cur.size) * 0.5)) {
      if (it.str.trim() || !cur || eol) {
        cur = { text: it.str, y, size };
        lines.push(cur);
      }
    } else {
      // Items of one line: a gap wider than a fraction of the font size is a space between words.
      const gap = x - endX;
      if (gap > size * 0.15 && !/\s$/.test(cur.text) && !/^\s/.test(it.str)) cur.text += ' ';
      cur.text += it.str;
      cur.size = Math.max(cur.size, size);
    }
    endX = x + it.width;
    eol = it.hasEOL;
  }
  return lines.filter((l) => l.text.trim());
}

/** One page's lines as paragraphs: a wider vertical gap ends a paragraph; a short line in a larger font is a heading. */
function readPdfPage(lines: Line[], page: number, outline: Outline, out: PassageBuilder): void {
  if (lines.length === 0) return;
  const sizes = lines.map((l) => l.size).sort((a, b) => a - b);
  const body = sizes[Math.floor(sizes.length / 2)]!;
  let para = '';
  let prev: Line | undefined;
  const where = () => {
    const h = outline.heading;
    return h === undefined ? { page } : { page, heading: h };
  };
  for (const l of lines) {
    const text = l.text.trim();
    const heading = l.size >= body * 1.25 && text.length <= 120 && /\p{L}/u.test(text) && !/[.,;:]$/.test(text);
    if (heading) {
      out.add(para, where());
      para = '';
      out.flush();
      outline.set(1, text);
    } else {
      const gap = prev ? prev.y - l.y : 0;
      if (prev && (gap > Math.max(prev.size, l.size) * 1.8 || gap < 0)) {
        out.add(para, where());
        para = '';
      }
      // A line ending in a hyphen continues the word on the next one (no space added).
      para = /\p{L}-$/u.test(para) ? para + text : para ? `${para} ${text}` : text;
    }
    prev = l;
  }
  out.add(para, where());
}
