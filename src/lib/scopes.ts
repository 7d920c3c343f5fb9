/**
 * API-key scopes: `<resource>:read` and `<resource>:write`, one resource per API tag. A key with
 * scopes may do only what both its role and its scopes allow; a key without scopes, what its role allows.
 */
export const SCOPE_RESOURCES = {
  catalog: 'catalog',
  controls: 'controls',
  profile: 'profile',
  evidence: 'evidence',
  certifications: 'evidence',
  reports: 'reports',
  audit: 'audit',
  members: 'members',
  'api-keys': 'members',
  webhooks: 'webhooks',
  // The outbox is outbound delivery, like webhooks.
  mail: 'webhooks',
  questionnaires: 'questionnaires',
  library: 'questionnaires',
  trust: 'trust',
  documents: 'trust',
  // Its own resource: an account view gathers trust and questionnaire data, so neither scope alone opens it.
  accounts: 'accounts',
} as const;

export const SCOPES = [...new Set(Object.values(SCOPE_RESOURCES))].flatMap((r) => [`${r}:read`, `${r}:write`]).sort();

/** The scope a route needs, from its first tag and its method; undefined for untagged routes. */
export function requiredScope(tag: string | undefined, method: string): string | undefined {
  if (!tag || !(tag in SCOPE_RESOURCES)) return undefined;
  const resource = SCOPE_RESOURCES[tag as keyof typeof SCOPE_RESOURCES];
  return `${resource}:${method === 'GET' || method === 'HEAD' ? 'read' : 'write'}`;
}

/** `x:write` implies `x:read`. */
export function hasScope(granted: readonly string[], needed: string): boolean {
  return granted.includes(needed) || (needed.endsWith(':read') && granted.includes(needed.replace(/:read$/, ':write')));
}
