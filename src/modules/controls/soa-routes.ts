import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

// Placeholder, replaced by SoA import/export.
export const soaRoutes: FastifyPluginAsyncTypebox = async () => {};
