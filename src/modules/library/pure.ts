// The library's I/O-free API: the shapes a fill's drafting reads, with no database behind them,
// so that a worker thread can load them alone.
import type { Choice } from './tables.js';

export interface ControlRef {
  framework: string;
  ref: string;
}

export interface ReusableEntry {
  id: string;
  version: number;
  question: string;
  choice: Choice | null;
  text: string | null;
  controls: ControlRef[];
}

/** Words the english configuration drops as stop words that still turn a question's meaning. */
const POLARITY = new Set([
  'not',
  'no',
  'never',
  'without',
  'nor',
  'before',
  'after',
  'during',
  'except',
  'unless',
  'only',
  'cannot',
  'don',
  'doesn',
  'isn',
  'aren',
  'won',
  'shouldn',
  'more',
  'less',
  'most',
  'least',
  'above',
  'below',
  'same',
  'other',
]);

/** A normalized question's polarity words, sorted: two questions are the same only if these agree (library and fill reuse). */
export const polarityOf = (normalized: string) =>
  normalized
    .split(' ')
    .filter((w) => POLARITY.has(w))
    .sort()
    .join(' ');
