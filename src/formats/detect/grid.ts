// The grid model shared by the CSV and XLSX readers: cells by row and column with the little
// styling the detection reads (formula, bold, filled), hidden rows, merges and list validations.
import { columnLetter, columnNumber } from '../cells.js';

export const address = (row: number, col: number) => `${columnLetter(col)}${row}`;

export interface GridCell {
  text: string;
  formula: boolean;
  bold: boolean;
  filled: boolean;
}
export interface Rect {
  top: number;
  left: number;
  bottom: number;
  right: number;
}
export interface ListValidation {
  ranges: Rect[];
  formula: string;
}
export interface Grid {
  name: string;
  hidden: boolean;
  rows: Map<number, Map<number, GridCell>>;
  maxRow: number;
  maxCol: number;
  hiddenRows: Set<number>;
  merges: Rect[];
  /** Covered (non top-left) cell key -> top-left cell key of its merge. */
  mergeMaster: Map<number, number>;
  validations: ListValidation[];
}

export const KEY = 20_000; // > 16,384 columns
export const cellKey = (r: number, c: number) => r * KEY + c;

export function emptyGrid(name: string): Grid {
  return { name, hidden: false, rows: new Map(), maxRow: 0, maxCol: 0, hiddenRows: new Set(), merges: [], mergeMaster: new Map(), validations: [] };
}

export function setCell(g: Grid, r: number, c: number, cell: GridCell): void {
  let row = g.rows.get(r);
  if (!row) g.rows.set(r, (row = new Map()));
  row.set(c, cell);
  if (r > g.maxRow) g.maxRow = r;
  if (c > g.maxCol && cell.text !== '') g.maxCol = c;
}

export const ownCell = (g: Grid, r: number, c: number) => g.rows.get(r)?.get(c);
export const ownText = (g: Grid, r: number, c: number) => ownCell(g, r, c)?.text ?? '';

// Merged cells are read from their top-left cell.
export function readText(g: Grid, r: number, c: number): string {
  const m = g.mergeMaster.get(cellKey(r, c));
  if (m === undefined) return ownText(g, r, c);
  return ownText(g, Math.floor(m / KEY), m % KEY);
}

export function indexMerges(g: Grid): void {
  let budget = 2_000_000;
  for (const m of g.merges) {
    const area = (m.bottom - m.top + 1) * (m.right - m.left + 1);
    if (area > 100_000 || (budget -= area) < 0) continue;
    const master = cellKey(m.top, m.left);
    for (let r = m.top; r <= m.bottom; r++) for (let c = m.left; c <= m.right; c++) if (r !== m.top || c !== m.left) g.mergeMaster.set(cellKey(r, c), master);
  }
}

export function mergeAt(g: Grid, r: number, c: number): Rect | undefined {
  const key = cellKey(r, c);
  const master = g.mergeMaster.get(key) ?? key;
  const mr = Math.floor(master / KEY);
  const mc = master % KEY;
  return g.merges.find((m) => m.top === mr && m.left === mc);
}

export function parseRange(ref: string): Rect | undefined {
  const s = ref.replace(/\$/g, '').trim().toUpperCase();
  let m = /^([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?$/.exec(s);
  if (m) {
    const top = Number(m[2]);
    const left = columnNumber(m[1]!);
    const bottom = m[4] ? Number(m[4]) : top;
    const right = m[3] ? columnNumber(m[3]) : left;
    return { top: Math.min(top, bottom), left: Math.min(left, right), bottom: Math.max(top, bottom), right: Math.max(left, right) };
  }
  m = /^([A-Z]{1,3}):([A-Z]{1,3})$/.exec(s);
  if (m) return { top: 1, left: columnNumber(m[1]!), bottom: 1_048_576, right: columnNumber(m[2]!) };
  m = /^(\d+):(\d+)$/.exec(s);
  if (m) return { top: Number(m[1]), left: 1, bottom: Number(m[2]), right: 16_384 };
  return undefined;
}

export const inRect = (x: Rect, r: number, c: number) => r >= x.top && r <= x.bottom && c >= x.left && c <= x.right;
