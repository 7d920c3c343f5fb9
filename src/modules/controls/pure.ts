// The source of truth's I/O-free API: the vocabulary a fill's drafting reads, with no database
// behind it, so that a worker thread can load it alone.
export { CONTROL_STATUSES, type ControlStatus } from './tables.js';
