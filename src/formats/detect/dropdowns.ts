// Dropdown lists: list validations read from the sheet XML (standard and x14) and resolved to their
// values (inline lists, ranges on any sheet, defined names), with a warning when one cannot be.
import { inRect, parseRange, readText, type Grid, type ListValidation, type Rect } from './grid.js';
import { squash } from './cell-text.js';
import { xmlAttrs, xmlDecode } from './xml.js';

export interface DefinedName {
  name: string;
  localSheet?: string;
  ref: string;
}
export interface Book {
  grids: Map<string, Grid>;
  definedNames: DefinedName[];
  warnings: Set<string>;
  resolved: Map<string, string[] | null>;
}

function splitSheetRef(ref: string): { sheet?: string; range: string } {
  const s = ref.trim().replace(/^=/, '');
  const quoted = /^'((?:[^']|'')+)'!(.+)$/.exec(s);
  if (quoted) return { sheet: quoted[1]!.replace(/''/g, "'"), range: quoted[2]! };
  const plain = /^([^!'"]+)!(.+)$/.exec(s);
  if (plain) return { sheet: plain[1]!, range: plain[2]! };
  return { range: s };
}

function rangeValues(g: Grid, rect: Rect): string[] {
  const out: string[] = [];
  const bottom = Math.min(rect.bottom, g.maxRow);
  const right = Math.min(rect.right, Math.max(g.maxCol, rect.left));
  for (let r = rect.top; r <= bottom && out.length < 1000; r++) {
    for (let c = rect.left; c <= right; c++) {
      const t = squash(readText(g, r, c));
      if (t && !out.includes(t)) out.push(t);
    }
  }
  return out;
}

// Dropdown values: inline lists ("Yes,No,NA"), ranges on any sheet ('Lists'!$A$1:$A$3) and defined names.
function resolveList(book: Book | undefined, g: Grid, formula: string, depth = 0): string[] | undefined {
  const f = formula.trim().replace(/^=/, '');
  const cacheKey = `${g.name}\u0000${f}`;
  const cached = book?.resolved.get(cacheKey);
  if (cached !== undefined) return cached ?? undefined;
  let out: string[] | undefined;
  if (f.startsWith('"')) {
    out = f.replace(/^"|"$/g, '').replace(/""/g, '"').split(',').map(squash).filter(Boolean);
  } else {
    const { sheet, range } = splitSheetRef(f);
    const rect = parseRange(range);
    if (rect) {
      const target =
        sheet === undefined ? g : (book?.grids.get(sheet) ?? [...(book?.grids.values() ?? [])].find((x) => x.name.toLowerCase() === sheet.toLowerCase()));
      if (target) out = rangeValues(target, rect);
    } else if (book && depth < 3 && /^[A-Za-z_\\][\w.\\]*$/.test(f)) {
      const candidates = book.definedNames.filter((d) => d.name.toLowerCase() === f.toLowerCase());
      const dn = candidates.find((d) => d.localSheet === g.name) ?? candidates.find((d) => d.localSheet === undefined) ?? candidates[0];
      if (dn) out = resolveList(book, g, dn.ref, depth + 1);
    }
  }
  if (out === undefined)
    book?.warnings.add(
      `A dropdown list on sheet "${g.name}" uses "${f.slice(0, 80)}", which cannot be resolved to values; its allowed answers are left empty.`,
    );
  book?.resolved.set(cacheKey, out ?? null);
  return out;
}

export function listAt(book: Book | undefined, g: Grid, r: number, c: number): string[] | undefined {
  for (const v of g.validations) {
    if (v.ranges.some((x) => inRect(x, r, c))) {
      const values = resolveList(book, g, v.formula);
      return values && values.length ? values : undefined;
    }
  }
  return undefined;
}

// List validations from the sheet XML: the standard <dataValidation> and the x14 extension (<x14:dataValidation> with <xm:f>/<xm:sqref>).
export function extractListValidations(xml: string): ListValidation[] {
  const out: ListValidation[] = [];
  const re = /<((?:[\w-]+:)?)dataValidation\b([^>]*?)(?:\/>|>([\s\S]*?)<\/\1dataValidation>)/g;
  for (const m of xml.matchAll(re)) {
    const attrs = xmlAttrs(m[2] ?? '');
    if (attrs.type !== 'list') continue;
    const inner = m[3] ?? '';
    const f1 = /<(?:[\w-]+:)?formula1\b[^>]*>([\s\S]*?)<\/(?:[\w-]+:)?formula1>/.exec(inner);
    if (!f1) continue;
    const formula = xmlDecode(f1[1]!.replace(/<[^>]+>/g, '')).trim();
    const sqref = attrs.sqref ?? xmlDecode(/<(?:[\w-]+:)?sqref\b[^>]*>([\s\S]*?)<\/(?:[\w-]+:)?sqref>/.exec(inner)?.[1] ?? '');
    const ranges = sqref
      .split(/\s+/)
      .map(parseRange)
      .filter((x): x is Rect => !!x);
    if (formula && ranges.length) out.push({ ranges, formula });
  }
  return out;
}
