// The closed lists the event contract (payloads.ts) shares with the modules that store them: kept
// here, in the outbox's own module, so the contract depends on nothing above it.

export const CERTIFICATION_KINDS = ['iso27001', 'soc2_type1', 'soc2_type2', 'other'] as const;
export const CONTROL_STATUSES = ['implemented', 'partially_implemented', 'planned', 'not_implemented'] as const;
export const FACT_TYPES = ['string', 'boolean', 'number', 'string_list', 'date'] as const;
export const FACT_VISIBILITIES = ['public', 'private'] as const;
export const TRUST_UPDATE_CATEGORIES = ['security', 'subprocessor', 'certification', 'incident', 'general'] as const;
export const TRUST_UPDATE_AUDIENCES = ['public', 'grantees'] as const;
