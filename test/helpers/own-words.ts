// The own-text check of the labelled sets (bench/): every run of RUN consecutive words of the
// reference questionnaires and standards under ../shared/data, and the runs of our text found there.
import fs from 'node:fs';
import path from 'node:path';
import JSZip from 'jszip';

export const REFERENCE_DATA = path.resolve('..', 'shared', 'data');
export const RUN = 8;

export const words = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9 ]+/g, ' ')
    .split(/\s+/)
    .filter(Boolean);

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

// A workbook's text is its shared strings, one per cell value. Reading them straight from the ZIP
// takes half a second; loading the HECVAT workbook through ExcelJS takes minutes.
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
async function workbookText(file: string): Promise<string> {
  const zip = await JSZip.loadAsync(fs.readFileSync(file));
  const xml = (await zip.file('xl/sharedStrings.xml')?.async('string')) ?? '';
  return [...xml.matchAll(/<si>([\s\S]*?)<\/si>/g)]
    .map((m) => [...m[1]!.matchAll(/<t(?:\s[^>]*)?>([\s\S]*?)<\/t>/g)].map((x) => x[1]).join(''))
    .map((s) => s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ENTITIES[e]!).replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d))))
    .join(' | ');
}

/** Every run of RUN words in the text files (csv, json, md, xlsx) under dir. Runs may bridge two cells or fields: that only makes the check stricter. */
export async function referenceRuns(dir = REFERENCE_DATA): Promise<Set<string>> {
  const reference = new Set<string>();
  for (const f of filesUnder(dir)) {
    const text = /\.(csv|json|md)$/.test(f) ? fs.readFileSync(f, 'utf8') : f.endsWith('.xlsx') ? await workbookText(f) : null;
    if (text === null) continue;
    const w = words(text);
    for (let i = 0; i + RUN <= w.length; i++) reference.add(w.slice(i, i + RUN).join(' '));
  }
  return reference;
}

/** The runs of RUN words of a text that the reference holds, as `id: "run"`. */
export function sharedRuns(id: string, text: string, reference: Set<string>): string[] {
  const w = words(text);
  const hits: string[] = [];
  for (let i = 0; i + RUN <= w.length; i++) {
    const run = w.slice(i, i + RUN).join(' ');
    if (reference.has(run)) hits.push(`${id}: "${run}"`);
  }
  return hits;
}
