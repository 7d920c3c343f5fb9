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
