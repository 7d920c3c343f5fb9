// Buyers' questionnaires: import, fill (understanding, retrieval, drafting), review, release and
// write-back into the buyer's own file, and the prospect's self-serve fill.
export { prospectQuestionnairesByDomains, questionnairesByIds, type QuestionnaireSummary } from './account-read.js';
export { loadThesaurus } from './answering.js';
export { type DraftRunner } from './draft-task.js';
export { scanQuestionnairesDueSoon } from './due-soon.js';
export { exportForProspect } from './export.js';
export { Llm } from './llm.js';
export { controlCitationCounts } from './retirement.js';
export { JsonImport, QuestionnaireUpload } from './upload-schemas.js';
export {
  DEFAULT_PROSPECT_AUTO_RELEASE,
  PROSPECT_AUTO_RELEASE,
  RELEASED_BY,
  importFromProspect,
  prospectProgress,
  prospectView,
  runNextJob,
  type FillDeps,
  type ProspectAutoRelease,
} from './service.js';
export { controlSuggester } from './suggest.js';
export { readQuestionnaireUpload } from './upload.js';
