// What a parsed questionnaire is, whatever file it came from: the shape the readers produce and
// the questionnaires and library modules consume (types only).

export type QuestionnaireFormat = 'csv' | 'xlsx' | 'json' | 'vsaq';
export type AnswerRole = 'choice' | 'text' | 'ownership' | 'comment' | 'other';

export interface AnswerColumn {
  column: string;
  header: string;
  role: AnswerRole;
  allowed?: string[];
  /** Set when the file has no answer column and we propose an empty one after the last used column. */
  proposed?: boolean;
}

export interface SheetLayout {
  name: string;
  /** 1-based; 0 when the sheet has no header row. */
  headerRow: number;
  questionColumn: string;
  idColumn?: string;
  sectionColumn?: string;
  answerColumns: AnswerColumn[];
}

export interface VsaqOption {
  /** The choice's key in the template ({key: html label}). */
  key: string;
  /** Its label as text. */
  label: string;
}

export interface AnswerCell {
  /** A cell address; for a VSAQ item, the item's id. */
  cell: string;
  role: AnswerRole | 'vsaq';
  /** The column header (spreadsheets); absent for VSAQ items. */
  header?: string;
  allowed?: string[];
  /** VSAQ item type, lower-case (yesno, radiogroup, checkgroup, line, box, upload, check). */
  vsaqType?: string;
  /** VSAQ radiogroup/checkgroup choices. */
  options?: VsaqOption[];
  /** VSAQ condition: the item's own `cond` and its enclosing blocks', joined with &&. */
  cond?: string;
  /** The cell's current text, only when the mapping asks for `withValues` (a past questionnaire read into the library). */
  value?: string;
}

export interface ParsedQuestion {
  ref?: string;
  text: string;
  section?: string;
  sheet?: string;
  /** 1-based row of the question in its sheet (CSV: record number, header included). */
  row?: number;
  questionCell?: string;
  answerCells: AnswerCell[];
  allowedAnswers?: string[];
}

export interface ParsedQuestionnaire {
  format: QuestionnaireFormat;
  /** Title when the file carries one (JSON `name`, VSAQ top block). */
  name?: string;
  sheets: SheetLayout[];
  questions: ParsedQuestion[];
  warnings: string[];
}

export interface MappingOverride {
  sheet?: string;
  headerRow?: number;
  questionColumn?: string;
  idColumn?: string;
  sectionColumn?: string;
  answerColumns?: { column: string; role: AnswerRole; header?: string }[];
  /**
   * Also read what the answer cells already hold (AnswerCell.value): the library import reads a
   * past, answered questionnaire. Off by default: a questionnaire import has no use for them.
   */
  withValues?: boolean;
}
