// The source of truth: an organization's answer per control (applicability, implementation,
// responsibility, visibility) with its versions, and the SoA import and export.
export { answersForRetrieval, controlVersionsOf, publicControlAnswers } from './read.js';
export { answerVersionCountsOn, copyAnswerTo, deleteAnswersOn, lockAnswersAmong, lockAnswersOn } from './retirement.js';
export {
  CONTROL_STATUSES,
  RESPONSIBILITIES,
  STATEMENT_FIELDS,
  answersByControl,
  putControlAnswer,
  type ControlAnswerInput,
  type ControlStatus,
  type Responsibility,
} from './service.js';
