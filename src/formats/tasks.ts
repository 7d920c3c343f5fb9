// What a parser worker runs. Results and refusals come back as plain data: class instances do not
// survive the trip between threads, so an error is sent as its code and message and rebuilt.
import type { MessagePort } from 'node:worker_threads';
import { DomainError, type ErrorCode, type FieldError } from '../lib/errors.js';
import type { MappingOverride, ParsedQuestionnaire } from './detect.js';
import { QuestionnaireParseError, type FormatErrorCode } from './errors.js';
import { limitsFor, type LimitProfile } from './limits.js';
import type { RawTable } from './soa-table.js';
import type { ExtractedText } from './text.js';

/**
 * Our own CPU work (a fill batch's ranking): the worker imports `module`, a file of this code
 * base, and calls its export `fn` with the task. The pool needs to know nothing of the domain.
 */
export interface ComputeTask {
  kind: 'compute';
  module: string;
  fn: string;
}

/** Compute tasks run only code from this code base: the directory above formats/. */
const SOURCE_ROOT = new URL('../', import.meta.url).href;

export type ParseTask = (
  | { kind: 'questionnaire'; bytes: Uint8Array; fileName?: string; mapping?: MappingOverride; profile: LimitProfile }
  | { kind: 'soa'; bytes: Uint8Array }
  | { kind: 'watermark'; bytes: Uint8Array; email: string; at: string; organization: string }
  | { kind: 'text'; bytes: Uint8Array; fileName?: string; contentType?: string }
  | ComputeTask
) & { /** Told when the worker starts on the task: the deadline runs from then. */ started?: MessagePort };

export type TaskFailure =
  { ok: false; kind: 'parse'; code: FormatErrorCode; message: string } | { ok: false; kind: 'domain'; code: ErrorCode; message: string; errors?: FieldError[] };

export type TaskResult<T> = { ok: true; value: T } | TaskFailure;

const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function runTask(task: ComputeTask): Promise<TaskResult<unknown>>;
export function runTask(task: Exclude<ParseTask, ComputeTask>): Promise<TaskResult<ParsedQuestionnaire | RawTable | Uint8Array | ExtractedText>>;
export async function runTask(task: ParseTask): Promise<TaskResult<unknown>> {
  // Our own computation: an exception is a fault, thrown as is rather than blamed on a file.
  if (task.kind === 'compute') {
    if (!task.module.startsWith(SOURCE_ROOT)) throw new Error(`compute task module outside the code base: ${task.module}`);
    const fn = ((await import(task.module)) as Record<string, unknown>)[task.fn];
    if (typeof fn !== 'function') throw new Error(`compute task: ${task.fn} is not a function of ${task.module}`);
    return { ok: true, value: await (fn as (t: ComputeTask) => unknown)(task) };
  }
  // Each kind loads its readers on first use: a worker that only ranks fill batches (or reads one
  // kind of file) starts without the others. The deadline starts after the load, as before.
  try {
    if (task.kind === 'questionnaire') {
      const { parseQuestionnaire } = await import('./detect.js');
      task.started?.postMessage('started');
      const input: Parameters<typeof parseQuestionnaire>[0] = { bytes: asBuffer(task.bytes), limits: limitsFor(task.profile) };
      if (task.fileName !== undefined) input.fileName = task.fileName;
      if (task.mapping !== undefined) input.mapping = task.mapping;
      return { ok: true, value: await parseQuestionnaire(input) };
    }
    if (task.kind === 'watermark') {
      const { watermarkPdf } = await import('./watermark.js');
      task.started?.postMessage('started');
      return { ok: true, value: await watermarkPdf(asBuffer(task.bytes), { email: task.email, at: new Date(task.at), organization: task.organization }) };
    }
    if (task.kind === 'text') {
      const { extractText } = await import('./text.js');
      task.started?.postMessage('started');
      const opts: Parameters<typeof extractText>[1] = {};
      if (task.fileName !== undefined) opts.fileName = task.fileName;
      if (task.contentType !== undefined) opts.contentType = task.contentType;
      return { ok: true, value: await extractText(asBuffer(task.bytes), opts) };
    }
    const { readSoaTable } = await import('./soa-table.js');
    task.started?.postMessage('started');
    return { ok: true, value: await readSoaTable(asBuffer(task.bytes)) };
  } catch (err) {
    return failureOf(err);
  }
}

export function failureOf(err: unknown): TaskFailure {
  if (err instanceof QuestionnaireParseError) return { ok: false, kind: 'parse', code: err.code, message: err.message };
  if (err instanceof DomainError) {
    const f: TaskFailure = { ok: false, kind: 'domain', code: err.code, message: err.detail ?? err.message };
    if (err.extras.errors) f.errors = err.extras.errors;
    return f;
  }
  // A reader library's own exception on a malformed file: the file is damaged, not the server.
  return { ok: false, kind: 'parse', code: 'corrupt', message: `The file cannot be read: ${String((err as Error)?.message ?? err).slice(0, 300)}` };
}

/** Rebuilds the error a worker reported, as the class the caller expects. */
export function rethrow(f: TaskFailure): never {
  if (f.kind === 'parse') throw new QuestionnaireParseError(f.code, f.message);
  throw new DomainError(f.code, f.message, f.errors ? { errors: f.errors } : {});
}
