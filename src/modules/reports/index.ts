// Read models over the record: the SoA, the SOC 2 mapping and the ISO/IEC 27017 responsibility
// reports. Owns no tables.
export { soc2Coverage } from './soc2.js';
