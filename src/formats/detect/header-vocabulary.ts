// The header vocabulary: which header words name a question, ID, section, answer, comment or
// reference column, and how header-like a cell is (to find the header row).
import { isIdLike, norm } from './cell-text.js';

export type HeaderKind = 'reference' | 'id' | 'choices' | 'ownership' | 'other' | 'comment' | 'text' | 'answer' | 'section' | 'question';
export interface HeaderClass {
  kind: HeaderKind | null;
  rank: number;
}

// Checked in this order; the first match wins.
const HEADER_RULES: [HeaderKind, RegExp, number][] = [
  // Possible-answer lists ("Choices", "Options") feed allowedAnswers.
  ['choices', /^(choices|options|answer (options|choices)|allowed (answers|values)|possible (answers|values)|valid (answers|values))$/, 1],
  // Reference material (guidance, mappings, scoring, reviewer-only columns) is never a question or an answer column.
  [
    'reference',
    /\b(guidance|guidelines?|mappings?|specifications?|typical|applicability|relevance|addendum|gap level|lite|scores?|scoring|weights?|importance|compliant response|reason for (the )?question|follow.?up|auditing|instructions?|analysts?|reviewers?|assessors?|auditors?|internal use|office use|examples?|version)\b/,
    1,
  ],
  // ID headers: "ID", "Ref", "#", "No.", "Question ID", "Control ID", "Item No", "Code" (a bare "No" is an answer header).
  [
    'id',
    /^(id|ids|ref\.?|refs|reference|no\.|nr\.?|num|number|code|key|qid|s\.? ?no\.?|sl\.? ?no\.?)$|[\s/(](id|ref\.?|reference|no\.?|nr\.?|num|number|code)$|#$/,
    1,
  ],
  // Shared-responsibility ownership ("SSRM Control Ownership").
  ['ownership', /\b(ownership|ssrm|owner|responsible party)\b/, 1],
  // Evidence and links.
  ['other', /\b(evidence|attachments?|artifacts?|supporting documents?|links?|urls?)\b/, 1],
  // Comment columns: comments, notes, explanation, remarks, additional information.
  [
    'comment',
    /\b(comments?|notes?|explanations?|explain|remarks?|justifications?|additional (info|information|details|comments|context)|clarifications?|details)\b/,
    1,
  ],
  // Free-text answers: "CSP Implementation Description", "CSC Responsibilities".
  ['text', /(implementation description|description of (the )?implementation|responsibilit(y|ies)|\bdescribe\b|narrative|free text)/, 1],
  // Answer columns: answer, response, yes/no, compliance, status ("CSP CAIQ Answer").
  ['answer', /\b(answers?|responses?|yes|y\/n|compliance|compliant|status|applicable|selection|reply|replies)\b|^(no|n\/?a)$/, 1],
  // Section columns: section, domain, category, area, topic.
  ['section', /\b(sections?|domains?|categor(y|ies)|areas?|topics?|chapters?|famil(y|ies)|groups?|headings?|themes?)\b/, 1],
  // Question columns, strongest first: question > requirement / control question > description.
  ['question', /\bquestions?\b/, 3],
  ['question', /\b(requirements?|queries|query|criteria|criterion|statements?)\b/, 2],
  ['question', /\b(descriptions?|prompt)\b/, 1],
];

export function classifyHeader(text: string): HeaderClass {
  const h = norm(text)
    .replace(/\s*\((optional|recommended|optional\/recommended|required|mandatory)\)\s*/g, ' ')
    .trim();
  if (!h || h.length > 100) return { kind: null, rank: 0 };
  for (const [kind, re, rank] of HEADER_RULES) {
    if (kind === 'id' && /\byes\b/.test(h)) continue; // "Yes/No" is an answer header, not "No."
    if (re.test(h)) return { kind, rank };
  }
  return { kind: null, rank: 0 };
}

// Header score of one cell: question words 3, other header words 2, reference words 1, data-looking values -1.
export function headerCellScore(text: string): number {
  const t = text.trim();
  if (!t) return 0;
  if (t.length > 80 || t.endsWith('?') || isIdLike(t) || /^(yes|no|n\/?a|true|false|x)$/i.test(t) || /^[\d.,%\s-]+$/.test(t)) return -1;
  const c = classifyHeader(t);
  if (c.kind === 'question') return c.rank >= 3 ? 3 : 2;
  if (c.kind === 'reference' || c.kind === 'other') return 1;
  return c.kind ? 2 : 0;
}
