// A fill's ranking and drafting, as a task for the worker pool: the event loop that serves requests
// only stems the batch (one query) and writes the answers (one statement). The corpus crosses to a
// worker once per job and worker; after that a task names it by key.
import type { ComputeTask } from '../../formats/tasks.js';
import {
  corpusData,
  corpusFromData,
  draftPrepared,
  type AnswerCorpus,
  type ControlDoc,
  type CorpusData,
  type DraftAnswer,
  type PassageDoc,
  type PreparedBatch,
  type QuestionInput,
  type RankOptions,
  type RetrievalContext,
} from './drafting.js';

/** Where the pool's worker finds the ranking: this file's runDraftTask. */
const ENTRY = { kind: 'compute', module: import.meta.url, fn: 'runDraftTask' } as const;

export interface DraftTask extends ComputeTask {
  /** Names the corpus of one fill job; sent with `corpus` only when the worker asked for it. */
  corpusKey: string;
  corpus?: CorpusData;
  /** The thesaurus as stemmed on the main thread: sent with the corpus, kept with it. */
  groups?: PreparedBatch['groups'];
  questions: QuestionInput[];
  tokens: PreparedBatch['tokens'];
  /** The previous question's topic, as control keys. */
  previous: string[];
  extra?: Array<[string, string[]]>;
  extraPassages?: Array<[string, string[]]>;
}

export type DraftTaskResult = { missing: true } | { missing: false; drafts: Array<[string, DraftAnswer]>; previous: string[] };

/** Corpora a worker keeps: one per running fill, a few at most. */
const KEPT = 4;
interface Kept {
  corpus: AnswerCorpus;
  groups: PreparedBatch['groups'];
  controls: Map<string, ControlDoc>;
  passages: Map<string, PassageDoc>;
}
const corpora = new Map<string, Kept>();

/** The worker's side: ranks and composes a batch against the named corpus. */
export function runDraftTask(task: DraftTask): DraftTaskResult {
  let kept = corpora.get(task.corpusKey);
  if (!kept) {
    if (!task.corpus || !task.groups) return { missing: true };
    const corpus = corpusFromData(task.corpus);
    kept = {
      corpus,
      groups: task.groups,
      controls: new Map(corpus.controls.map((c) => [c.key, c])),
      passages: new Map(corpus.passages.docs.map((p) => [p.key, p])),
    };
    corpora.set(task.corpusKey, kept);
    if (corpora.size > KEPT) corpora.delete(corpora.keys().next().value!);
  }
  const { corpus, groups, controls: byKey, passages: passagesByKey } = kept;
  const controlsOf = (keys: string[]) => keys.map((k) => byKey.get(k)).filter((c): c is ControlDoc => c !== undefined);
  const context: RetrievalContext = { previous: controlsOf(task.previous) };
  const opts: RankOptions = { context };
  if (task.extra) opts.extra = new Map(task.extra.map(([id, keys]) => [id, controlsOf(keys)]));
  if (task.extraPassages) {
    opts.extraPassages = new Map(
      task.extraPassages.map(([id, keys]) => [id, keys.map((k) => passagesByKey.get(k)).filter((p): p is PassageDoc => p !== undefined)]),
    );
  }
  const drafts = draftPrepared(corpus, task.questions, { tokens: task.tokens, groups }, opts);
  return { missing: false, drafts: [...drafts], previous: context.previous.map((c) => c.key) };
}

export interface DraftRunner {
  compute(task: DraftTask): Promise<DraftTaskResult>;
}

/** The main thread's side: one batch in the pool, the corpus sent to a worker that lacks it. */
export async function draftInPool(
  runner: DraftRunner,
  corpusKey: string,
  corpus: AnswerCorpus,
  qs: QuestionInput[],
  prepared: PreparedBatch,
  opts: RankOptions,
): Promise<Map<string, DraftAnswer>> {
  const task: DraftTask = { ...ENTRY, corpusKey, questions: qs, tokens: prepared.tokens, previous: (opts.context?.previous ?? []).map((c) => c.key) };
  if (opts.extra) task.extra = [...opts.extra].map(([id, docs]) => [id, docs.map((d) => d.key)]);
  if (opts.extraPassages) task.extraPassages = [...opts.extraPassages].map(([id, docs]) => [id, docs.map((d) => d.key)]);
  let result = await runner.compute(task);
  if (result.missing) result = await runner.compute({ ...task, corpus: corpusData(corpus), groups: prepared.groups });
  if (result.missing) throw new Error('the worker did not keep the corpus it was sent');
  if (opts.context) {
    const byKey = new Map(corpus.controls.map((c) => [c.key, c]));
    opts.context.previous = result.previous.map((k) => byKey.get(k)).filter((c): c is ControlDoc => c !== undefined);
  }
  return new Map(result.drafts);
}

/**
 * Sends a job's corpus to a worker before its first batch: the worker's start and the index build
 * overlap the main thread's own reads instead of delaying the first batch.
 */
export async function primeCorpus(runner: DraftRunner, corpusKey: string, corpus: AnswerCorpus, groups: PreparedBatch['groups']): Promise<void> {
  await runner.compute({ ...ENTRY, corpusKey, corpus: corpusData(corpus), groups, questions: [], tokens: [], previous: [] });
}
