// The knowledge sources' I/O-free API: the passage shape a fill's drafting reads, with no
// database behind it, so that a worker thread can load it alone.
import type { KnowledgeKind, KnowledgeVisibility } from './tables.js';

export interface PassageRow {
  kind: KnowledgeKind;
  sourceId: string;
  title: string;
  version: number;
  visibility: KnowledgeVisibility;
  position: number;
  page: number | null;
  heading: string | null;
  text: string;
  /** Stemmed lexemes with their weights (A: heading, C: text), as Postgres stored them. */
  terms: Array<{ lexeme: string; weights: string[] }>;
}
