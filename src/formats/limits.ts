// Every cap on reading an uploaded file, in one place. Editors get the generous set; a prospect
// holding only a grant link gets a smaller one. The worker's memory and time budget is in config.ts
// (PARSER_MEMORY_MB, PARSER_TIMEOUT_MS) because it is an operational setting, not a format rule.

export interface ParseLimits {
  /** Sum of the uncompressed sizes in a ZIP (XLSX) package, and the inflated bytes actually produced. */
  maxUncompressedBytes: number;
  /** Uncompressed total / file size, checked once the total passes minRatioCheckBytes. */
  maxCompressionRatio: number;
  minRatioCheckBytes: number;
  maxZipEntries: number;
  /** CSV and JSON files. */
  maxTextBytes: number;
  maxQuestions: number;
  /** The header row is searched for in this many rows. */
  headerScanRows: number;
  /** Cells with content or style over all sheets (counted in the sheet XML before any is built). */
  maxCells: number;
  maxRows: number;
  maxColumns: number;
  /** Characters in one cell (Excel's own limit is 32,767). */
  maxCellChars: number;
  /** Characters in one CSV record (checked by the CSV reader while it reads). */
  maxRecordChars: number;
  /** Nesting of JSON arrays and objects. */
  maxJsonDepth: number;
  /** A section path (VSAQ block titles joined by ' > '). */
  maxSectionChars: number;
  /** A VSAQ condition after the enclosing blocks' conditions are joined in. */
  maxCondChars: number;
}

export const EDITOR_LIMITS: ParseLimits = {
  maxUncompressedBytes: 100 * 1024 * 1024,
  maxCompressionRatio: 200,
  minRatioCheckBytes: 1024 * 1024,
  maxZipEntries: 10_000,
  maxTextBytes: 10 * 1024 * 1024,
  maxQuestions: 5000,
  headerScanRows: 30,
  maxCells: 500_000,
  maxRows: 100_000,
  maxColumns: 1_000,
  maxCellChars: 32_767,
  maxRecordChars: 256 * 1024,
  maxJsonDepth: 64,
  maxSectionChars: 1_000,
  maxCondChars: 4_000,
};

export const PROSPECT_LIMITS: ParseLimits = {
  ...EDITOR_LIMITS,
  maxUncompressedBytes: 25 * 1024 * 1024,
  maxZipEntries: 2_000,
  maxTextBytes: 2 * 1024 * 1024,
  maxQuestions: 1_000,
  maxCells: 100_000,
  maxRows: 20_000,
  maxColumns: 200,
  maxCellChars: 8_000,
  maxRecordChars: 64 * 1024,
  maxJsonDepth: 32,
  maxSectionChars: 500,
  maxCondChars: 2_000,
};

/** The SoA import: one sheet of at most 1,000 controls. */
export const SOA_LIMITS: ParseLimits = {
  ...EDITOR_LIMITS,
  maxUncompressedBytes: 50 * 1024 * 1024,
  maxZipEntries: 1_000,
  maxTextBytes: 5 * 1024 * 1024,
  maxCells: 200_000,
  maxRows: 50_000,
  maxColumns: 500,
  maxCellChars: 32_767,
};

export type LimitProfile = 'editor' | 'prospect';
export const limitsFor = (profile: LimitProfile): ParseLimits => (profile === 'prospect' ? PROSPECT_LIMITS : EDITOR_LIMITS);
