import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import OpenAI from 'openai';
import { and, eq, inArray } from 'drizzle-orm';
import type { OrgScope } from '../../lib/context.js';
import { embeddings, llmDrafts } from './tables.js';

/**
 * The optional language model: embeddings for a semantic ranking, and drafted prose that cites
 * only the sources it was given. Any OpenAI-compatible service (OpenAI, Azure, Ollama, vLLM)
 * through the official client. Nothing here runs inside a database transaction: vectors and
 * drafts are cached by content hash in their own short writes, before or after the calls.
 */
export interface LlmSettings {
  apiKey: string;
  baseUrl?: string | undefined;
  model: string;
  embeddingModel: string;
  /** Questions drafted per chat call. */
  batchSize?: number;
  timeoutMs?: number;
  maxRetries?: number;
}

export interface DraftSource {
  id: string;
  text: string;
}
export interface DraftRequest {
  id: string;
  text: string;
  sources: DraftSource[];
}
export interface Drafted {
  text: string;
  citations: string[];
}

/** Bumped when the prompt changes, so cached drafts of the old prompt are not reused. */
const PROMPT_VERSION = 'draft-v1';
const EMBED_BATCH = 96;

const SYSTEM_PROMPT = [
  'You draft answers to customer security questionnaires for the organization whose statements you are given.',
  'Answer each question only from its numbered sources, in two or three plain sentences, in the first person plural.',
  'Cite the ids of the sources you used. Do not invent facts, products, numbers or certifications; if the sources do not answer the question, say so.',
  'Never state a yes/no verdict that the sources do not support.',
].join(' ');

const RESPONSE_FORMAT = {
  type: 'json_schema',
  json_schema: {
    name: 'questionnaire_answers',
    strict: true,
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['answers'],
      properties: {
        answers: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'text', 'citations'],
            properties: { id: { type: 'string' }, text: { type: 'string' }, citations: { type: 'array', items: { type: 'string' } } },
          },
        },
      },
    },
  },
} as const;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Where a swallowed model failure is reported, and for which job (the client is shared by every job). */
export interface LlmLogScope {
  jobId: string;
  log?: { warn?(obj: object, msg: string): void } | undefined;
}

// A scope rather than a parameter: the calls reach this client through answering.ts, which knows no job.
const logScope = new AsyncLocalStorage<LlmLogScope>();

/** Runs `fn` with its model failures logged against this job. */
export function withLlmLog<T>(scope: LlmLogScope, fn: () => Promise<T>): Promise<T> {
  return logScope.run(scope, fn);
}

/**
 * What may be logged of a model failure: the error's class and, from the service, its HTTP status
 * and error code. Never the message: it can echo the request or the model's output.
 */
export function failureFields(err: unknown): { error: string; status?: number; code?: string } {
  const error = err instanceof Error ? err.constructor.name : typeof err;
  const status = err instanceof OpenAI.APIError && typeof err.status === 'number' ? err.status : undefined;
  const code = err instanceof OpenAI.APIError && typeof err.code === 'string' ? err.code : undefined;
  return { error, ...(status !== undefined ? { status } : {}), ...(code !== undefined ? { code } : {}) };
}

export class Llm {
  private readonly client: OpenAI;
  readonly usage = { chatCalls: 0, embeddingCalls: 0, tokens: 0, cachedDrafts: 0, failedBatches: 0 };

  constructor(readonly settings: LlmSettings) {
    this.client = new OpenAI({
      apiKey: settings.apiKey,
      ...(settings.baseUrl ? { baseURL: settings.baseUrl } : {}),
      timeout: settings.timeoutMs ?? 60_000,
      maxRetries: settings.maxRetries ?? 2,
    });
  }

  /**
   * Vectors for these texts, from the organization's cache or, for the ones never seen, from
   * the embeddings endpoint (stored as plain real[]: no pgvector needed; ranking is in process).
   */
  async embed({ db, orgId }: OrgScope, texts: string[]): Promise<Float32Array[]> {
    const model = this.settings.embeddingModel;
    const hashes = texts.map((t) => sha256(`${model}\n${t}`));
    const textOf = new Map(hashes.map((h, i) => [h, texts[i]!]));
    const unique = [...textOf.keys()];
    const known = new Map<string, Float32Array>();
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await db
        .select({ hash: embeddings.contentHash, vector: embeddings.vector })
        .from(embeddings)
        .where(and(eq(embeddings.orgId, orgId), eq(embeddings.model, model), inArray(embeddings.contentHash, unique.slice(i, i + 500))));
      for (const r of rows) known.set(r.hash, Float32Array.from(r.vector));
    }
    const missing = unique.filter((h) => !known.has(h));
    for (let i = 0; i < missing.length; i += EMBED_BATCH) {
      const batch = missing.slice(i, i + EMBED_BATCH);
      const res = await this.client.embeddings.create({ model, input: batch.map((h) => textOf.get(h)!) });
      this.usage.embeddingCalls++;
      this.usage.tokens += res.usage?.total_tokens ?? 0;
      const rows = res.data.map((d) => {
        const hash = batch[d.index]!;
        const vector = Float32Array.from(d.embedding);
        known.set(hash, vector);
        return { orgId, model, contentHash: hash, vector: Array.from(vector), createdAt: new Date() };
      });
      if (rows.length > 0) await db.insert(embeddings).values(rows).onConflictDoNothing();
    }
    return hashes.map((h) => known.get(h) ?? new Float32Array());
  }

  /**
   * Drafts answers, several questions per call, with structured output. A draft is cached by the
   * hash of the model, prompt version, question and sources: an unchanged question costs no call.
   * Citations outside a question's own sources are dropped. A failed call leaves its questions
   * and the ones after it out of the result (the offline text stands) rather than failing the fill.
   */
  async draft({ db, orgId }: OrgScope, requests: DraftRequest[]): Promise<Map<string, Drafted>> {
    const out = new Map<string, Drafted>();
    const keyOf = (r: DraftRequest) => sha256(JSON.stringify([this.settings.model, PROMPT_VERSION, r.text, r.sources]));
    const keys = new Map(requests.map((r) => [r.id, keyOf(r)]));
    const cached = new Map<string, Drafted>();
    const allKeys = [...new Set(keys.values())];
    for (let i = 0; i < allKeys.length; i += 500) {
      const rows = await db
        .select()
        .from(llmDrafts)
        .where(and(eq(llmDrafts.orgId, orgId), inArray(llmDrafts.cacheKey, allKeys.slice(i, i + 500))));
      for (const r of rows) cached.set(r.cacheKey, { text: r.text, citations: r.citations });
    }
    const todo: DraftRequest[] = [];
    for (const r of requests) {
      const hit = cached.get(keys.get(r.id)!);
      if (hit) {
        out.set(r.id, hit);
        this.usage.cachedDrafts++;
      } else todo.push(r);
    }
    const size = this.settings.batchSize ?? 8;
    for (let i = 0; i < todo.length; i += size) {
      const batch = todo.slice(i, i + size);
      let answers: Array<{ id: string; text: string; citations: string[] }>;
      try {
        answers = await this.chat(batch);
      } catch (err) {
        // The service is failing: the rest of this call's questions keep their offline text.
        this.usage.failedBatches++;
        const scope = logScope.getStore();
        scope?.log?.warn?.(
          { jobId: scope.jobId, orgId, operation: 'draft', ...failureFields(err) },
          'language model call failed; the fill continues with offline answers',
        );
        break;
      }
      const rows = [];
      for (const r of batch) {
        const a = answers.find((x) => x.id === r.id);
        if (!a || !a.text.trim()) continue;
        const allowed = new Set(r.sources.map((s) => s.id));
        const drafted = { text: a.text.trim(), citations: [...new Set(a.citations.filter((c) => allowed.has(c)))] };
        out.set(r.id, drafted);
        rows.push({ orgId, cacheKey: keys.get(r.id)!, model: this.settings.model, text: drafted.text, citations: drafted.citations, createdAt: new Date() });
      }
      if (rows.length > 0) await db.insert(llmDrafts).values(rows).onConflictDoNothing();
    }
    return out;
  }

  private async chat(batch: DraftRequest[]): Promise<Array<{ id: string; text: string; citations: string[] }>> {
    const res = await this.client.chat.completions.create({
      model: this.settings.model,
      temperature: 0,
      response_format: RESPONSE_FORMAT as unknown as OpenAI.ResponseFormatJSONSchema,
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: JSON.stringify({ questions: batch }) },
      ],
    });
    this.usage.chatCalls++;
    this.usage.tokens += res.usage?.total_tokens ?? 0;
    const content = res.choices[0]?.message.content;
    if (!content) throw new Error('the model returned no content');
    const parsed = JSON.parse(content) as { answers?: unknown };
    if (!Array.isArray(parsed.answers)) throw new Error('the model did not follow the answer schema');
    return parsed.answers.filter(
      (a): a is { id: string; text: string; citations: string[] } =>
        typeof a === 'object' &&
        a !== null &&
        typeof (a as { id?: unknown }).id === 'string' &&
        typeof (a as { text?: unknown }).text === 'string' &&
        Array.isArray((a as { citations?: unknown }).citations) &&
        (a as { citations: unknown[] }).citations.every((c) => typeof c === 'string'),
    );
  }
}
