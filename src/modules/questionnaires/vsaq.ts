// Google VSAQ questionnaire templates (github.com/google/vsaq, Apache-2.0): JSON with `//` and
// `/* */` comments and `"a" + "b"` string joins, a tree of typed items where `block` items nest
// and give sections, and only some item types take an answer.
import type { ParsedQuestion } from './detect.js';

/** Item types a respondent answers (the rest - block, tip, info, spacer - only carry text). */
export const VSAQ_ANSWERABLE_TYPES = new Set(['yesno', 'radiogroup', 'checkgroup', 'line', 'box', 'upload', 'check']);

/**
 * Parses JSON that may carry VSAQ's extensions: comments outside strings are dropped and a `+`
 * between two string literals joins them. Throws SyntaxError like JSON.parse.
 */
export function parseJsonWithExtensions(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(stripJsonExtensions(text));
  }
}

/** Rewrites VSAQ-flavoured JSON into plain JSON (comments removed, `"a" + "b"` joined). */
export function stripJsonExtensions(text: string): string {
  let out = '';
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
      out += text.slice(i, end);
      // `"a" + "b"`: drop the closing quote of a and the opening quote of b, as often as it repeats.
      for (;;) {
        const plus = skip(end);
        if (text[plus] !== '+') break;
        const next = skip(plus + 1);
        if (text[next] !== '"') break;
        const nextEnd = literalEnd(next);
        out = out.slice(0, -1) + text.slice(next + 1, nextEnd);
        end = nextEnd;
      }
      i = end;
      continue;
    }
    if (ch === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
      i = skip(i);
      out += ' ';
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

/** True for a parsed VSAQ template: `{ "questionnaire": [ items ] }`. */
export function isVsaqTemplate(data: unknown): data is { questionnaire: unknown[] } {
  return typeof data === 'object' && data !== null && Array.isArray((data as { questionnaire?: unknown }).questionnaire);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** VSAQ item text is HTML: tags become spaces, entities are decoded, whitespace is collapsed. */
export function htmlToText(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    // Entities, including the legacy forms browsers accept without ';' ("&gttags").
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);|&(lt|gt|amp|quot)(?![a-z0-9;])|&(lt|gt|amp|quot)(?=[a-z])/gi, (m, e: string | undefined, legacy?: string, prefix?: string) => {
      if (e === undefined) return ENTITIES[(legacy ?? prefix ?? '').toLowerCase()] ?? m;
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return Number.isFinite(code) ? String.fromCodePoint(code) : m;
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/\s+/g, ' ')
    .replace(/\s+([:.,;!?])/g, '$1')
    .trim();
}

type VsaqItem = { type?: unknown; id?: unknown; text?: unknown; items?: unknown; choices?: unknown; yes?: unknown; no?: unknown };

function choiceTexts(choices: unknown): string[] {
  if (!Array.isArray(choices)) return [];
  const out: string[] = [];
  for (const c of choices) {
    if (typeof c === 'string') out.push(htmlToText(c));
    else if (c && typeof c === 'object') for (const v of Object.values(c)) if (typeof v === 'string') out.push(htmlToText(v));
  }
  return out.filter((s) => s !== '');
}

/**
 * The answerable items of a VSAQ template, in document order. Blocks give sections (the path of
 * block titles joined by ' > '); an answerable item without text (VSAQ's option checkgroups) takes
 * its block's title so it is never blank.
 */
export function vsaqQuestions(data: { questionnaire: unknown[] }): { name?: string; questions: ParsedQuestion[] } {
  const questions: ParsedQuestion[] = [];
  let name: string | undefined;
  const walk = (items: unknown, path: string[]): void => {
    if (!Array.isArray(items)) return;
    for (const raw of items) {
      if (!raw || typeof raw !== 'object') continue;
      const item = raw as VsaqItem;
      const type = typeof item.type === 'string' ? item.type.toLowerCase() : '';
      const text = typeof item.text === 'string' ? htmlToText(item.text) : '';
      if (type === 'block') {
        if (name === undefined && path.length === 0 && text) name = text;
        walk(item.items, text ? [...path, text] : path);
        continue;
      }
      if (!VSAQ_ANSWERABLE_TYPES.has(type)) {
        if (Array.isArray(item.items)) walk(item.items, path);
        continue;
      }
      let allowed: string[] | undefined;
      if (type === 'radiogroup' || type === 'checkgroup') allowed = choiceTexts(item.choices);
      else if (type === 'yesno') allowed = [typeof item.yes === 'string' ? htmlToText(item.yes) : 'Yes', typeof item.no === 'string' ? htmlToText(item.no) : 'No'];
      const q: ParsedQuestion = {
        text: text || path[path.length - 1] || (typeof item.id === 'string' ? item.id : type),
        answerCells: [],
      };
      if (typeof item.id === 'string' && item.id !== '') q.ref = item.id;
      if (path.length) q.section = path.join(' > ');
      if (allowed && allowed.length) q.allowedAnswers = allowed;
      questions.push(q);
    }
  };
  walk(data.questionnaire, []);
  return name === undefined ? { questions } : { name, questions };
}
