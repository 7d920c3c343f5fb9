// What a cell's text looks like to the layout detection: folded whitespace, ID values ("IAM-02",
// "1.2.3") and question-like text (ends with '?' or starts with an interrogative or imperative word).

export const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
export const norm = (s: string) => squash(s.toLowerCase().replace(/[_\u00a0]/g, ' '));

// ID values: "A&A-01.1", "IAM-02", "HPSS-01", "CC6.1", "A.5.1", "Q12" or dotted numbers "1.2.3".
const ID_VALUE = /^(?:[A-Za-z][A-Za-z0-9&]{0,11}(?:[-_.][A-Za-z0-9&]{1,8}){0,3}[-_.]?\d+(?:\.\d+)*[a-z]?|\d{1,4}(?:\.\d+)*\.?[a-z]?)$/;
export function isIdLike(value: string): boolean {
  const v = value.trim();
  return v.length > 0 && v.length <= 24 && ID_VALUE.test(v);
}

const INTERROGATIVE =
  /^(what|when|where|which|who|whom|whose|why|how|is|are|was|were|do|does|did|has|have|had|can|could|will|would|shall|should|may|might|must|describe|explain|list|provide|please|specify|state|indicate|identify|confirm|detail|outline|attach|upload|enter|select|summari[sz]e|share|name)\b/i;
export const CLOSED = /^(is|are|was|were|do|does|did|has|have|had|can|could|will|would|shall|should|may|must)\b/i;
export const stripNumbering = (s: string) => s.replace(/^\s*(?:\(?[0-9]+(?:\.[0-9]+)*[.)]?|\(?[a-z][.)])\s+/i, '');
// A question-like text ends with '?' or starts with an interrogative or imperative word.
export function looksLikeQuestion(text: string): boolean {
  const t = text.trim();
  return t.endsWith('?') || INTERROGATIVE.test(stripNumbering(t));
}
