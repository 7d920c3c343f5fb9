// Untrusted files are read off the event loop, in a small pool of worker threads with a heap cap
// and a deadline per file: a hostile file can exhaust its worker, never the server. A worker that
// runs out of memory or time is thrown away (piscina replaces it) and the upload gets a 413.
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { MappingOverride, ParsedQuestionnaire } from './detect.js';
import { DomainError } from '../lib/errors.js';
import { QuestionnaireParseError } from './errors.js';
import type { LimitProfile } from './limits.js';
import type { RawTable } from './soa-table.js';
import type { ExtractedText } from './text.js';
import { rethrow, type ComputeTask, type ParseTask, type TaskResult } from './tasks.js';

export interface ParserPoolOptions {
  /** Worker threads at most (files beyond that wait in the queue). */
  threads: number;
  /** V8 old-generation heap of one worker, in MB. */
  memoryMb: number;
  /** Deadline for reading one file, in ms. */
  timeoutMs: number;
}

export class ParserPool {
  private pool: Piscina | undefined;

  constructor(readonly options: ParserPoolOptions) {}

  // Started on first use: most apps (and most tests) never parse a file.
  private get(): Piscina {
    if (this.pool) return this.pool;
    this.pool = new Piscina({
      filename: new URL('./worker.mjs', import.meta.url).href,
      minThreads: 0,
      maxThreads: this.options.threads,
      idleTimeout: 60_000,
      resourceLimits: {
        maxOldGenerationSizeMb: this.options.memoryMb,
        maxYoungGenerationSizeMb: Math.min(64, Math.max(8, Math.floor(this.options.memoryMb / 8))),
        stackSizeMb: 4,
      },
    });
    // A worker that fails to start rejects its task; unheard, the pool's 'error' event would end the process.
    this.pool.on('error', () => {});
    return this.pool;
  }

  parseQuestionnaire(input: { bytes: Buffer; fileName?: string; mapping?: MappingOverride; profile: LimitProfile }): Promise<ParsedQuestionnaire> {
    const task: ParseTask = { kind: 'questionnaire', bytes: input.bytes, profile: input.profile };
    if (input.fileName !== undefined) task.fileName = input.fileName;
    if (input.mapping !== undefined) task.mapping = input.mapping;
    return this.run<ParsedQuestionnaire>(task);
  }

  /** The SoA import's table; refusals are DomainErrors as readSoaTable throws them. */
  async readSoa(bytes: Buffer): Promise<RawTable> {
    try {
      return await this.run<RawTable>({ kind: 'soa', bytes });
    } catch (err) {
      if (err instanceof QuestionnaireParseError) {
        throw new DomainError(err.code === 'too_large' ? 'payload_too_large' : 'bad_request', err.message);
      }
      throw err;
    }
  }

  /** Stamps a PDF for a grantee (pdf-lib parses and rewrites the whole file: CPU work kept off the event loop). */
  async watermarkPdf(bytes: Buffer, stamp: { email: string; at: Date; organization: string }): Promise<Buffer> {
    const out = await this.run<Uint8Array>({ kind: 'watermark', bytes, email: stamp.email, at: stamp.at.toISOString(), organization: stamp.organization });
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }

  /** A policy document (PDF, DOCX, Markdown, HTML, text) as cited passages; refusals are QuestionnaireParseErrors. */
  extractText(input: { bytes: Buffer; fileName?: string; contentType?: string }): Promise<ExtractedText> {
    const task: ParseTask = { kind: 'text', bytes: input.bytes };
    if (input.fileName !== undefined) task.fileName = input.fileName;
    if (input.contentType !== undefined) task.contentType = input.contentType;
    return this.run<ExtractedText>(task);
  }

  /**
   * A fill batch's ranking and drafting: our own CPU work on our own data, so no file deadline;
   * a failure is a fault of the job, which its retries handle.
   */
  async compute<T>(task: ComputeTask): Promise<T> {
    const result = (await this.get().run(task)) as TaskResult<T>;
    if (!result.ok) throw new Error(`the ${task.fn} task failed: ${result.message}`);
    return result.value;
  }

  private async run<T>(task: ParseTask): Promise<T> {
    const { memoryMb, timeoutMs } = this.options;
    // The deadline runs from the moment a worker starts on the file (it says so over this port), so
    // a worker's first start (loading exceljs) or a queue does not eat into it; those get a wider bound.
    const ac = new AbortController();
    const { port1, port2 } = new MessageChannel();
    let deadline: NodeJS.Timeout | undefined;
    const outer = setTimeout(() => ac.abort(), timeoutMs * 4 + 60_000);
    port1.once('message', () => {
      deadline = setTimeout(() => ac.abort(), timeoutMs);
    });
    let result: TaskResult<T>;
    try {
      result = await this.get().run({ ...task, started: port2 }, { signal: ac.signal, transferList: [port2] });
    } catch (err) {
      const e = err as { name?: string; code?: string; message?: string };
      if (e.name === 'AbortError' || e.name === 'TimeoutError' || ac.signal.aborted) {
        throw new QuestionnaireParseError(
          'too_large',
          `Reading the file took longer than ${Math.round(timeoutMs / 100) / 10} s (limit: parse time); simplify or split it.`,
        );
      }
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY' || /out of memory/i.test(e.message ?? '')) {
        throw new QuestionnaireParseError(
          'too_large',
          `Reading the file needs more than ${memoryMb} MB of memory (limit: parser memory); simplify or split it.`,
        );
      }
      // Any other worker death is still the file's doing (a stack overflow, a crash in a reader library).
      throw new QuestionnaireParseError('corrupt', 'The file could not be read (the parser stopped on it); re-save it and upload it again.');
    } finally {
      clearTimeout(outer);
      clearTimeout(deadline);
      port1.close();
    }
    if (!result.ok) rethrow(result);
    return result.value;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await pool.destroy();
  }
}
