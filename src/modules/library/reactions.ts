import { STATEMENT_FIELDS } from '../controls/index.js';
import { deriveOn, onSignal } from '../events/index.js';
import { markStaleForEvidence, markStaleForFacts, markStaleForSource, markStaleMany, type StaleCause } from './service.js';

/**
 * The library's reactions to changes in the record: an approved entry resting on a control, a
 * fact, an evidence file or a document that changed is stale until its owner looks again. The
 * record emits its events and knows nothing of the library.
 */
export function registerLibraryReactions(): void {
  // A changed answer (not a first one, not only its owner or review date): one statement for all.
  deriveOn('library.stale.controls', ['control.updated'], async (tx, ctx, events) => {
    const causes: Array<StaleCause & { cause: number }> = [];
    for (const { index, event } of events) {
      if (event.type !== 'control.updated' || event.data.version <= 1) continue;
      const substantive = event.data.changed.filter((f) => STATEMENT_FIELDS.has(f));
      if (substantive.length === 0) continue;
      causes.push({
        cause: index,
        framework: event.data.framework,
        ref: event.data.ref,
        reason: `control ${event.data.ref} changed in version ${event.data.version} (${substantive.join(', ')})`,
      });
    }
    return (await markStaleMany(tx, ctx, causes)).map((s) => ({ cause: causes[s.cause]!.cause, event: s.event }));
  });

  deriveOn('library.stale.facts', ['profile.fact_changed'], async (tx, ctx, events) => {
    const out = [];
    for (const { index, event } of events) {
      if (event.type !== 'profile.fact_changed' || event.data.previousVersion === null) continue;
      const { key, change, version } = event.data;
      const reason = `fact ${key} changed (${change === 'deleted' ? 'deleted' : `version ${version}`})`;
      for (const e of await markStaleForFacts(tx, ctx, [key], reason)) out.push({ cause: index, event: e });
    }
    return out;
  });

  deriveOn('library.stale.evidence', ['evidence.expired'], async (tx, ctx, events) => {
    const out = [];
    for (const { index, event } of events) {
      if (event.type !== 'evidence.expired') continue;
      for (const e of await markStaleForEvidence(tx, ctx, event.data.id, event.data.title)) out.push({ cause: index, event: e });
    }
    return out;
  });

  onSignal('library.stale.sources', 'source.version_indexed', async (tx, ctx, d) => {
    await markStaleForSource(tx, ctx, d.kind, d.id, d.version, d.title);
  });
}
