import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

// Placeholder, replaced by the certifications capability.
export const certificationRoutes: FastifyPluginAsyncTypebox = async () => {};
