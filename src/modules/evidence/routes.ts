import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../../config.js';

// Placeholder, replaced by the evidence capability.
export const evidenceRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async () => {};
