import { uuidv7 } from 'uuidv7';

/** Time-ordered ids: new rows sort last, which keeps keyset pagination stable under inserts. */
export const newId = (): string => uuidv7();
