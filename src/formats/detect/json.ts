// A JSON questionnaire: {name?, questions: [...]} or a bare array with common key spellings, or a
// Google VSAQ template; with `withValues`, each item's past answer as answer cells.
import { QuestionnaireParseError, limitError, tooManyQuestions } from '../errors.js';
import type { ParseLimits } from '../limits.js';
import type { AnswerCell, AnswerRole, ParsedQuestion, ParsedQuestionnaire } from '../questionnaire.js';
import { isVsaqTemplate, parseJsonWithExtensions, vsaqQuestions } from '../vsaq.js';
import { squash } from './cell-text.js';

const tooLongSection = (limits: ParseLimits): never => {
  throw limitError(`A section name has more than ${limits.maxSectionChars} characters (limit: section length).`);
};

const pick = (o: Record<string, unknown>, keys: string[]): string | undefined => {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' && v.trim()) return squash(v);
    if (typeof v === 'number') return String(v);
  }
  return undefined;
};

// JSON: {name?, questions:[{ref?, text, section?}]} (also a bare array, and common key spellings), or a Google VSAQ template.
export function parseJson(text: string, limits: ParseLimits, withValues = false): ParsedQuestionnaire {
  let data: unknown;
  try {
    data = parseJsonWithExtensions(text, limits.maxJsonDepth);
  } catch (err) {
    if (err instanceof QuestionnaireParseError) throw err;
    throw new QuestionnaireParseError('corrupt', `The JSON file cannot be parsed: ${(err as Error).message}`, { cause: err });
  }
  if (isVsaqTemplate(data)) {
    const { name, questions } = vsaqQuestions(data, limits);
    if (!questions.length)
      throw new QuestionnaireParseError('no_questions', 'The VSAQ template has no answerable items (yesno, radiogroup, checkgroup, line, box).');
    const out: ParsedQuestionnaire = { format: 'vsaq', sheets: [], questions, warnings: [] };
    if (name) out.name = name;
    return out;
  }
  const obj = data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
  const list = Array.isArray(data) ? data : Array.isArray(obj?.questions) ? (obj!.questions as unknown[]) : undefined;
  if (!list) {
    throw new QuestionnaireParseError(
      'no_questions',
      'The JSON file is neither {"questions": [{"ref", "text", "section"}]} nor a Google VSAQ template ({"questionnaire": [...]}).',
    );
  }
  if (list.length > limits.maxQuestions) throw tooManyQuestions(list.length, limits.maxQuestions);
  const questions: ParsedQuestion[] = [];
  let skipped = 0;
  for (const item of list) {
    if (typeof item === 'string') {
      if (item.trim()) questions.push({ text: squash(item), answerCells: [] });
      else skipped++;
      continue;
    }
    if (!item || typeof item !== 'object') {
      skipped++;
      continue;
    }
    const o = item as Record<string, unknown>;
    const qText = pick(o, ['text', 'question', 'questionText', 'question_text', 'prompt', 'title']);
    if (qText && qText.length > limits.maxCellChars)
      throw limitError(`A question has more than ${limits.maxCellChars.toLocaleString('en')} characters (limit: characters per question).`);
    if (!qText) {
      skipped++;
      continue;
    }
    const q: ParsedQuestion = { text: qText, answerCells: [] };
    const ref = pick(o, ['ref', 'id', 'question_id', 'questionId', 'qid', 'number', 'code']);
    if (ref) q.ref = ref;
    const section =
      pick(o, ['section', 'domain', 'category', 'group']) ??
      pick(
        o,
        Object.keys(o).filter((k) => /section|domain|category/i.test(k)),
      );
    if (section) q.section = section.length > limits.maxSectionChars ? tooLongSection(limits) : section;
    for (const k of ['allowedAnswers', 'allowed', 'choices', 'options']) {
      const v = o[k];
      if (Array.isArray(v) && v.length && v.every((x) => typeof x === 'string')) {
        q.allowedAnswers = (v as string[]).map(squash);
        break;
      }
    }
    if (withValues) q.answerCells = jsonAnswerValues(o);
    questions.push(q);
  }
  if (!questions.length) throw new QuestionnaireParseError('no_questions', 'The JSON questions list has no item with question text ("text" or "question").');
  const out: ParsedQuestionnaire = {
    format: 'json',
    sheets: [],
    questions,
    warnings: skipped ? [`${skipped} JSON item(s) without question text were skipped.`] : [],
  };
  const name = obj ? pick(obj, ['name', 'title', 'specification_name']) : undefined;
  if (name) out.name = name;
  return out;
}

// An item's past answer, as answer cells named after their keys: `answer` as a string, or as this
// API's own export writes it ({choice, text}), and a comment. Only read for `withValues`.
function jsonAnswerValues(o: Record<string, unknown>): AnswerCell[] {
  const cells: AnswerCell[] = [];
  const add = (cell: string, role: AnswerRole, v: unknown) => {
    const text = typeof v === 'string' ? v.trim() : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
    if (text) cells.push({ cell, role, header: cell, value: text });
  };
  const answer = o.answer;
  if (answer && typeof answer === 'object' && !Array.isArray(answer)) {
    add('answer.choice', 'choice', (answer as Record<string, unknown>).choice);
    add('answer.text', 'text', (answer as Record<string, unknown>).text);
  } else add('answer', 'text', answer ?? o.response);
  add('choice', 'choice', o.choice);
  add('comment', 'comment', o.comment ?? o.comments ?? o.notes);
  return cells;
}
