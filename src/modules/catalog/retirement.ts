import { and, eq, inArray, or } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { crosswalkOverrides } from './tables.js';

// What a catalog version that drops controls hands to the code that moves organizations' data off
// them. That code calls the record and its consumers (answers, evidence, library, trust page, each
// through its own retirement.ts), so it sits above them (src/catalog-retire.ts) and the seeder
// receives it as `retire`; the catalog's own part (crosswalk overrides) is below.

/** A control a new catalog version no longer holds, and where its organizations' data goes. */
export interface RetiringControl {
  ref: string;
  title: string;
  reason: string;
  /** Candidate homes, best first (seed `retired` entry, else the catalog crosswalk). */
  movedTo: Array<{ framework: string; ref: string }>;
}

/** What happened to one organization's data on one retired control: one log line and one audit event. */
export interface RetirementRecord {
  orgId: string;
  org: string;
  framework: string;
  ref: string;
  title: string;
  catalogVersion: { from: number; to: number };
  reason: string;
  /** The home the data moved to (`framework:ref`), or none when no answerable control corresponds. */
  movedTo: string[];
  /** The current answer: moved to the first home not already answered, otherwise kept only as history. */
  answer: null | { outcome: 'moved'; to: string; version: number } | { outcome: 'kept_as_history'; why: string };
  /** Version rows of the retired control, left where they are (control_answer_versions has no catalog key). */
  answerVersionsKept: number;
  evidenceLinks: { count: number; movedTo: string[] };
  libraryLinks: { count: number; movedTo: string[] };
  /** The organization's crosswalk overrides on the control: deleted, their rows kept in the audit event. */
  crosswalkOverridesKeptAsHistory: number;
  trustPage: null | { outcome: 'replaced'; with: string } | { outcome: 'removed' };
  /** Questionnaire answers citing the control: citations are history and stay as written. */
  questionnaireCitationsKept: number;
}

/** Moves every organization's data off retiring controls, on the seeder's transaction, before they are deleted. */
export type RetireControls = (
  tx: Executor,
  input: { frameworkId: string; fromVersion: number; toVersion: number; controls: RetiringControl[]; now: Date },
) => Promise<RetirementRecord[]>;

/** An organization's addition to or rejection of a crosswalk link. */
export type CrosswalkOverride = typeof crosswalkOverrides.$inferSelect;

/** Every organization's crosswalk overrides with one end on these controls of one framework. */
export async function overridesOn(tx: Executor, frameworkId: string, refs: readonly string[]): Promise<CrosswalkOverride[]> {
  return tx
    .select()
    .from(crosswalkOverrides)
    .where(
      or(
        and(eq(crosswalkOverrides.fromFramework, frameworkId), inArray(crosswalkOverrides.fromRef, [...refs])),
        and(eq(crosswalkOverrides.toFramework, frameworkId), inArray(crosswalkOverrides.toRef, [...refs])),
      ),
    );
}

/** Deletes these crosswalk overrides (by id, across organizations). */
export async function deleteOverrides(tx: Executor, ids: readonly string[]): Promise<void> {
  await tx.delete(crosswalkOverrides).where(inArray(crosswalkOverrides.id, [...ids]));
}
