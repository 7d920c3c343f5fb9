// Knowledge sources: an organization's policy documents and past questionnaires, split into
// passages that answers may quote and cite.
export { TextIndex, UseForAnswers } from './schemas.js';
export {
  dropSource,
  indexFile,
  indexStates,
  loadPassages,
  sourceVersions,
  syncSource,
  type IndexState,
  type PassageRow,
  type TextExtractor,
} from './service.js';
