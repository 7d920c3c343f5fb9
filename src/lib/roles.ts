/** A member's roles, weakest last: identity stores them, every service checks them. */
export const ROLES = ['owner', 'admin', 'editor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
