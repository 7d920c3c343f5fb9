import { systemActor } from './lib/context.js';
import { recordAuditsAcross } from './modules/audit/index.js';
import { ANSWERABLE } from './modules/catalog/index.js';
import { controlKindsOf } from './modules/catalog/index.js';
import { deleteOverrides, overridesOn, type RetireControls, type RetirementRecord } from './modules/catalog/index.js';
import { answerVersionCountsOn, copyAnswerTo, deleteAnswersOn, lockAnswersAmong, lockAnswersOn } from './modules/controls/index.js';
import { evidenceLinksOn, replaceEvidenceLinksOn } from './modules/evidence/index.js';
import { organizationSummaries } from './modules/identity/index.js';
import { libraryLinksOn, replaceLibraryLinksOn } from './modules/library/index.js';
import { controlCitationCounts } from './modules/questionnaires/index.js';
import { lockPagesChoosing, setChosenControls } from './modules/trust/index.js';

// Each module moves its own rows (functions in its retirement.ts); this decides where data goes
// and what each organization's audit log says.

const ACTOR = systemActor('system:catalog-migration');

const keyOf = (framework: string, ref: string) => `${framework}:${ref}`;

/**
 * Moves every organization's data off controls a catalog version drops, on the seeder's open
 * transaction and before the controls are deleted: the current answer goes to the corresponding
 * answerable control when that one is unanswered (otherwise it stays only as history), evidence and
 * library links follow it, old version rows stay, and each organization's audit log gets one
 * `catalog.control_retired` event per control holding everything that was there.
 */
export const retireControls: RetireControls = async (tx, input) => {
  const { frameworkId: fw, now } = input;
  const refs = input.controls.map((c) => c.ref);
  if (refs.length === 0) return [];
  const byRef = new Map(input.controls.map((c) => [c.ref, c]));
  const requestId = `catalog:${fw}@${input.toVersion}`;

  // Homes must exist and be answerable, or moved data would sit where no API reaches it.
  const wanted = input.controls.flatMap((c) => c.movedTo);
  const existing = await controlKindsOf(tx, wanted);
  const live = new Set(
    existing.filter((c) => ANSWERABLE.some((a) => a.frameworkId === c.frameworkId && a.kinds.includes(c.kind))).map((c) => keyOf(c.frameworkId, c.ref)),
  );
  const homes = new Map(input.controls.map((c) => [c.ref, c.movedTo.filter((t) => live.has(keyOf(t.framework, t.ref)))]));
  const homeKeys = (ref: string) => (homes.get(ref) ?? []).map((t) => keyOf(t.framework, t.ref));

  const answers = await lockAnswersOn(tx, fw, refs);
  const versions = await answerVersionCountsOn(tx, fw, refs);
  const evLinks = await evidenceLinksOn(tx, fw, refs);
  const libLinks = await libraryLinksOn(tx, fw, refs);
  const overrides = await overridesOn(tx, fw, refs);
  const pages = await lockPagesChoosing(tx, refs);
  const citations = await controlCitationCounts(tx, fw, refs);

  const records = new Map<string, RetirementRecord>();
  const history = new Map<string, Record<string, unknown>>();
  const record = (orgId: string, ref: string) => {
    const k = `${orgId}|${ref}`;
    let r = records.get(k);
    if (!r) {
      const c = byRef.get(ref)!;
      r = {
        orgId,
        org: '',
        framework: fw,
        ref,
        title: c.title,
        catalogVersion: { from: input.fromVersion, to: input.toVersion },
        reason: c.reason,
        movedTo: homeKeys(ref),
        answer: null,
        answerVersionsKept: 0,
        evidenceLinks: { count: 0, movedTo: [] },
        libraryLinks: { count: 0, movedTo: [] },
        crosswalkOverridesKeptAsHistory: 0,
        trustPage: null,
        questionnaireCitationsKept: 0,
      };
      records.set(k, r);
      history.set(k, {});
    }
    return { r, h: history.get(k)! };
  };

  // Answers: a home already answered keeps its own answer; the retired one is then history only.
  const orgIds = [...new Set(answers.map((a) => a.orgId))];
  const homeTargets = [...new Set(answers.flatMap((a) => homes.get(a.ref) ?? []).map((t) => keyOf(t.framework, t.ref)))];
  const taken = new Set<string>();
  const answered = await lockAnswersAmong(
    tx,
    orgIds,
    homeTargets.map((k) => ({ framework: k.slice(0, k.indexOf(':')), ref: k.slice(k.indexOf(':') + 1) })),
  );
  for (const r of answered) taken.add(`${r.orgId}|${keyOf(r.frameworkId, r.ref)}`);
  const movedAnswer = new Map<string, string>();
  for (const a of answers.sort((x, y) => refs.indexOf(x.ref) - refs.indexOf(y.ref))) {
    const { r, h } = record(a.orgId, a.ref);
    const { orgId: _o, frameworkId: _f, ref: _r, ...fields } = a;
    h.answer = { ...fields, reviewDueAt: a.reviewDueAt?.toISOString() ?? null, updatedAt: a.updatedAt.toISOString() };
    const home = (homes.get(a.ref) ?? []).find((t) => !taken.has(`${a.orgId}|${keyOf(t.framework, t.ref)}`));
    if (!home) {
      r.answer = {
        outcome: 'kept_as_history',
        why: r.movedTo.length === 0 ? 'no corresponding answerable control' : `${r.movedTo.join(', ')} already answered`,
      };
      continue;
    }
    const version = await copyAnswerTo(tx, a, home, { actor: ACTOR.id, now, requestId });
    taken.add(`${a.orgId}|${keyOf(home.framework, home.ref)}`);
    movedAnswer.set(`${a.orgId}|${a.ref}`, home.ref);
    r.answer = { outcome: 'moved', to: keyOf(home.framework, home.ref), version };
  }
  if (answers.length > 0) await deleteAnswersOn(tx, fw, refs);
  for (const v of versions) record(v.orgId, v.ref).r.answerVersionsKept = v.n;

  // Evidence and library links go to every home; the old link (a foreign key or a dangling ref) goes.
  const evRows = evLinks.flatMap((l) => {
    const { r, h } = record(l.orgId, l.ref);
    r.evidenceLinks.count++;
    r.evidenceLinks.movedTo = homeKeys(l.ref);
    h.evidence = [...((h.evidence as string[] | undefined) ?? []), l.evidenceId];
    return (homes.get(l.ref) ?? []).map((t) => ({ orgId: l.orgId, evidenceId: l.evidenceId, frameworkId: t.framework, ref: t.ref }));
  });
  if (evLinks.length > 0) await replaceEvidenceLinksOn(tx, fw, refs, evRows);

  const libRows = libLinks.flatMap((l) => {
    const { r, h } = record(l.orgId, l.ref);
    r.libraryLinks.count++;
    r.libraryLinks.movedTo = homeKeys(l.ref);
    h.libraryEntries = [...((h.libraryEntries as string[] | undefined) ?? []), l.entryId];
    return (homes.get(l.ref) ?? []).map((t) => ({ orgId: l.orgId, entryId: l.entryId, frameworkId: t.framework, ref: t.ref, position: l.position }));
  });
  if (libLinks.length > 0) await replaceLibraryLinksOn(tx, fw, refs, libRows);

  // An override names a retired control on one end: no home makes sense for it, so it is history.
  for (const o of overrides) {
    const ref = o.fromFramework === fw && refs.includes(o.fromRef) ? o.fromRef : o.toRef;
    const { r, h } = record(o.orgId, ref);
    r.crosswalkOverridesKeptAsHistory++;
    h.crosswalkOverrides = [...((h.crosswalkOverrides as unknown[] | undefined) ?? []), { ...o, createdAt: o.createdAt.toISOString() }];
  }
  if (overrides.length > 0)
    await deleteOverrides(
      tx,
      overrides.map((o) => o.id),
    );

  // The trust page's chosen refs: the moved answer keeps its place, anything else is dropped.
  for (const p of pages) {
    const list = p.controlRefs ?? [];
    const next: string[] = [];
    for (const ref of list) {
      if (!byRef.has(ref)) {
        if (!next.includes(ref)) next.push(ref);
        continue;
      }
      const { r, h } = record(p.orgId, ref);
      const to = movedAnswer.get(`${p.orgId}|${ref}`);
      r.trustPage = to ? { outcome: 'replaced', with: to } : { outcome: 'removed' };
      h.trustPageControlRefs = list;
      if (to && !next.includes(to)) next.push(to);
    }
    await setChosenControls({ db: tx, orgId: p.orgId }, next, now);
  }
  for (const c of citations) record(c.orgId, c.ref).r.questionnaireCitationsKept = c.n;

  if (records.size === 0) return [];
  const slugs = new Map([...(await organizationSummaries(tx, [...new Set([...records.values()].map((r) => r.orgId))])).values()].map((o) => [o.id, o.slug]));
  const out = [...records.entries()]
    .map(([k, r]) => ({ k, r: { ...r, org: slugs.get(r.orgId) ?? r.orgId } }))
    .sort((a, b) => a.r.org.localeCompare(b.r.org) || refs.indexOf(a.r.ref) - refs.indexOf(b.r.ref));
  // The audit log is append-only: each organization keeps what was on the control, whatever came of it.
  await recordAuditsAcross(
    tx,
    { actor: ACTOR, requestId, clock: () => now },
    out.map(({ k, r }) => {
      const { orgId, org: _org, ...summary } = r;
      return { orgId, action: 'catalog.control_retired', targetType: 'control', targetId: keyOf(fw, r.ref), summary: { ...summary, was: history.get(k) } };
    }),
  );
  return out.map(({ r }) => r);
};

/** One line per organization and control, for the log at startup. */
export function describeRetirement(r: RetirementRecord): string {
  const parts: string[] = [];
  if (r.answer?.outcome === 'moved') parts.push(`answer moved to ${r.answer.to} (version ${r.answer.version})`);
  if (r.answer?.outcome === 'kept_as_history') parts.push(`answer kept as history only (${r.answer.why})`);
  if (r.answerVersionsKept > 0) parts.push(`${r.answerVersionsKept} answer version(s) kept as history`);
  const links = (n: number, what: string, to: string[]) => `${n} ${what} link(s) ${to.length > 0 ? `moved to ${to.join(', ')}` : 'kept as history only'}`;
  if (r.evidenceLinks.count > 0) parts.push(links(r.evidenceLinks.count, 'evidence', r.evidenceLinks.movedTo));
  if (r.libraryLinks.count > 0) parts.push(links(r.libraryLinks.count, 'library', r.libraryLinks.movedTo));
  if (r.crosswalkOverridesKeptAsHistory > 0) parts.push(`${r.crosswalkOverridesKeptAsHistory} crosswalk override(s) kept as history`);
  if (r.trustPage)
    parts.push(r.trustPage.outcome === 'replaced' ? `trust page shows ${r.trustPage.with} instead` : "removed from the trust page's chosen controls");
  if (r.questionnaireCitationsKept > 0) parts.push(`${r.questionnaireCitationsKept} questionnaire citation(s) left as written`);
  return `catalog ${r.framework} v${r.catalogVersion.from}->v${r.catalogVersion.to}: organization ${r.org} (${r.orgId}), retired item ${r.ref} "${r.title}": ${parts.join('; ')}; history in audit event catalog.control_retired`;
}
