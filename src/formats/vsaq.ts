// Google VSAQ questionnaire templates (github.com/google/vsaq, Apache-2.0): JSON with `//` and
// `/* */` comments and `"a" + "b"` string joins, a tree of typed items where `block` items nest
// and give sections, and only some item types take an answer.
import type { AnswerCell, ParsedQuestion, VsaqOption } from './questionnaire.js';
import { limitError } from './errors.js';
import { EDITOR_LIMITS, type ParseLimits } from './limits.js';

/** Item types a respondent answers (the rest - block, tip, info, spacer - only carry text). */
export const VSAQ_ANSWERABLE_TYPES = new Set(['yesno', 'radiogroup', 'checkgroup', 'line', 'box', 'upload', 'check']);

/**
 * Parses JSON that may carry VSAQ's extensions: comments outside strings are dropped and a `+`
 * between two string literals joins them. Throws SyntaxError like JSON.parse.
 */
export function parseJsonWithExtensions(text: string, maxDepth = EDITOR_LIMITS.maxJsonDepth): unknown {
  checkJsonDepth(text, maxDepth);
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(stripJsonExtensions(text));
  }
}

/**
 * Refuses JSON nested deeper than maxDepth before it is parsed: one pass over the text, counting
 * brackets outside strings and comments.
 */
export function checkJsonDepth(text: string, maxDepth: number): void {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2f) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end;
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 1;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) throw limitError(`The JSON file nests arrays and objects more than ${maxDepth} levels deep (limit: nesting depth).`);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

/** Rewrites VSAQ-flavoured JSON into plain JSON (comments removed, `"a" + "b"` joined). */
export function stripJsonExtensions(text: string): string {
  // Pieces joined once at the end: repeated `out +=`/`out.slice` would copy the output again and again.
  const parts: string[] = [];
  let i = 0;
  const n = text.length;
  // Skips whitespace and comments from position j; returns the next significant position.
  const skip = (j: number): number => {
    for (;;) {
      while (j < n && /\s/.test(text[j]!)) j++;
      if (text.startsWith('//', j)) {
        while (j < n && text[j] !== '\n') j++;
      } else if (text.startsWith('/*', j)) {
        const end = text.indexOf('*/', j + 2);
        j = end < 0 ? n : end + 2;
      } else {
        return j;
      }
    }
  };
  // Index just past the string literal that opens at j (escapes skipped).
  const literalEnd = (j: number): number => {
    let k = j + 1;
    while (k < n && text[k] !== '"') k += text[k] === '\\' ? 2 : 1;
    return Math.min(k + 1, n);
  };
  while (i < n) {
    const ch = text[i]!;
    if (ch === '"') {
      let end = literalEnd(i);
      let lit = text.slice(i, end);
      // `"a" + "b"`: drop the closing quote of a and the opening quote of b, as often as it repeats.
      for (;;) {
        const plus = skip(end);
        if (text[plus] !== '+') break;
        const next = skip(plus + 1);
        if (text[next] !== '"') break;
        const nextEnd = literalEnd(next);
        lit = lit.slice(0, -1) + text.slice(next + 1, nextEnd);
        end = nextEnd;
      }
      parts.push(lit);
      i = end;
      continue;
    }
    if (ch === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
      i = skip(i);
      parts.push(' ');
      continue;
    }
    // Plain JSON between string literals and comments goes in as one slice.
    let j = i + 1;
    while (j < n && text[j] !== '"' && !(text[j] === '/' && (text[j + 1] === '/' || text[j + 1] === '*'))) j++;
    parts.push(text.slice(i, j));
    i = j;
  }
  return parts.join('');
}

/** True for a parsed VSAQ template: `{ "questionnaire": [ items ] }`. */
export function isVsaqTemplate(data: unknown): data is { questionnaire: unknown[] } {
  return typeof data === 'object' && data !== null && Array.isArray((data as { questionnaire?: unknown }).questionnaire);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** VSAQ item text is HTML: tags become spaces, entities are decoded, whitespace is collapsed. */
export function htmlToText(html: string): string {
  return (
    html
      .replace(/<[^>]*>/g, ' ')
      // Entities, including the legacy forms browsers accept without ';' ("&gttags").
      .replace(
        /&(#x[0-9a-f]+|#\d+|[a-z]+);|&(lt|gt|amp|quot)(?![a-z0-9;])|&(lt|gt|amp|quot)(?=[a-z])/gi,
        (m, e: string | undefined, legacy?: string, prefix?: string) => {
          if (e === undefined) return ENTITIES[(legacy ?? prefix ?? '').toLowerCase()] ?? m;
          if (e[0] === '#') {
            const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
            return Number.isFinite(code) ? String.fromCodePoint(code) : m;
          }
          return ENTITIES[e.toLowerCase()] ?? m;
        },
      )
      .replace(/\s+/g, ' ')
      .replace(/\s+([:.,;!?])/g, '$1')
      .trim()
  );
}

type VsaqItem = { type?: unknown; id?: unknown; text?: unknown; items?: unknown; choices?: unknown; yes?: unknown; no?: unknown; cond?: unknown };

/** Choices are `{key: html label}` objects (or plain strings in hand-made templates). */
function choiceOptions(choices: unknown, limits: ParseLimits): VsaqOption[] {
  if (!Array.isArray(choices)) return [];
  const out: VsaqOption[] = [];
  for (const c of choices) {
    if (typeof c === 'string') out.push({ key: c, label: itemText(c, limits) });
    else if (c && typeof c === 'object') {
      for (const [key, v] of Object.entries(c)) if (typeof v === 'string') out.push({ key, label: itemText(v, limits) });
    }
  }
  return out.filter((o) => o.label !== '');
}

/** Item text with the per-cell cap checked on the raw HTML, before it is converted. */
function itemText(html: string, limits: ParseLimits): string {
  if (html.length > limits.maxCellChars)
    throw limitError(
      `A VSAQ item's text has ${html.length.toLocaleString('en')} characters; at most ${limits.maxCellChars.toLocaleString('en')} are accepted (limit: characters per item).`,
    );
  return htmlToText(html);
}

/** The conditions that gate an item: its blocks' and its own, as one expression. */
function joinConds(conds: readonly string[], limits: ParseLimits): string | undefined {
  if (!conds.length) return undefined;
  const joined = conds.length === 1 ? conds[0]! : conds.map((c) => `(${c})`).join(' && ');
  if (joined.length > limits.maxCondChars)
    throw limitError(
      `A VSAQ item's conditions (its own and its blocks') have more than ${limits.maxCondChars.toLocaleString('en')} characters (limit: condition length).`,
    );
  return joined;
}

/**
 * The answerable items of a VSAQ template, in document order. Blocks give sections (the path of
 * block titles joined by ' > ', built once per block and capped in length); an answerable item
 * without text (VSAQ's option checkgroups) takes its block's title so it is never blank. A block's
 * `cond` applies to everything inside it. The question cap is checked as items are found.
 */
export function vsaqQuestions(data: { questionnaire: unknown[] }, limits: ParseLimits = EDITOR_LIMITS): { name?: string; questions: ParsedQuestion[] } {
  const questions: ParsedQuestion[] = [];
  let name: string | undefined;
  // section: the joined path (shared by reference by every item of the block); title: the innermost block title.
  const walk = (items: unknown, section: string | undefined, title: string | undefined, conds: readonly string[], depth: number): void => {
    if (!Array.isArray(items)) return;
    if (depth > limits.maxJsonDepth) throw limitError(`The VSAQ template nests blocks more than ${limits.maxJsonDepth} levels deep (limit: nesting depth).`);
    for (const raw of items) {
      if (!raw || typeof raw !== 'object') continue;
      const item = raw as VsaqItem;
      const type = typeof item.type === 'string' ? item.type.toLowerCase() : '';
      const text = typeof item.text === 'string' ? itemText(item.text, limits) : '';
      const own = typeof item.cond === 'string' && item.cond.trim() !== '' ? item.cond : undefined;
      const inner = own ? [...conds, own] : conds;
      if (own) joinConds(inner, limits);
      if (type === 'block') {
        if (name === undefined && section === undefined && text) name = text;
        let next = section;
        if (text) {
          if ((section?.length ?? 0) + 3 + text.length > limits.maxSectionChars) {
            throw limitError(`A VSAQ section path (block titles joined by ' > ') has more than ${limits.maxSectionChars} characters (limit: section length).`);
          }
          next = section ? `${section} > ${text}` : text;
        }
        walk(item.items, next, text || title, inner, depth + 1);
        continue;
      }
      if (!VSAQ_ANSWERABLE_TYPES.has(type)) {
        if (Array.isArray(item.items)) walk(item.items, section, title, inner, depth + 1);
        continue;
      }
      if (questions.length >= limits.maxQuestions) {
        throw limitError(`The questionnaire has more than ${limits.maxQuestions} questions (limit: questions); split it into smaller files.`);
      }
      const id = typeof item.id === 'string' ? item.id : '';
      let allowed: string[] | undefined;
      let options: VsaqOption[] | undefined;
      if (type === 'radiogroup' || type === 'checkgroup') {
        options = choiceOptions(item.choices, limits);
        allowed = options.map((o) => o.label);
      } else if (type === 'yesno')
        allowed = [typeof item.yes === 'string' ? itemText(item.yes, limits) : 'Yes', typeof item.no === 'string' ? itemText(item.no, limits) : 'No'];
      const cell: AnswerCell = { cell: id, role: 'vsaq', vsaqType: type };
      if (options) cell.options = options;
      const cond = joinConds(inner, limits);
      if (cond !== undefined) cell.cond = cond;
      const q: ParsedQuestion = { text: text || title || id || type, answerCells: [cell] };
      if (id !== '') q.ref = id;
      if (section) q.section = section;
      if (allowed && allowed.length) q.allowedAnswers = allowed;
      questions.push(q);
    }
  };
  walk(data.questionnaire, undefined, undefined, [], 1);
  return name === undefined ? { questions } : { name, questions };
}
