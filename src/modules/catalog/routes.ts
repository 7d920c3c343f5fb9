import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParam, Timestamp, withProblems } from '../../lib/schemas.js';
import { RELATIONSHIPS } from './tables.js';
import * as catalog from './service.js';

const FrameworkId = Type.String({ maxLength: 50, description: 'e.g. `iso27001-2022`, `iso27017-2015`, `soc2-2017`, `iso27001-2013`' });
const Ref = Type.String({ minLength: 1, maxLength: 50, description: 'As the standard writes it: `A.8.5`, `CLD.12.1.5`, `CC6.1`; aliases resolve.' });

const Control = Type.Object({
  framework: Type.String(),
  ref: Type.String(),
  kind: Type.String({ description: '`annex_a`, `clause`, `cloud_control`, `cloud_guidance`, `criterion`' }),
  title: Type.String(),
  theme: Type.Union([Type.String(), Type.Null()]),
  summary: Type.Union([Type.String(), Type.Null()], { description: 'Our own words, never the standard\'s text.' }),
  keywords: Type.Array(Type.String()),
  guidance: Type.Object({
    providerGuidance: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'null: the standard gives the cloud service provider no additional implementation guidance here (`guidanceNote` says so).' })),
    customerGuidance: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'null: the standard gives the cloud service customer no additional implementation guidance here (`guidanceNote` says so).' })),
    guidanceNote: Type.Optional(Type.String({ description: 'Present when one side is null, e.g. "No additional implementation guidance for the cloud service provider."' })),
    expectedEvidence: Type.Optional(Type.Array(Type.String())),
    source: Type.Optional(Type.String({ description: 'The clause the item rests on, e.g. `x1631:9.2.2` (ITU-T X.1631 | ISO/IEC 27017:2015).' })),
    sourceNote: Type.Optional(Type.String({ description: 'Whether the clause was read in the standard\'s text or rests on a secondary reading.' })),
  }),
  attributes: Type.Record(Type.String(), Type.Unknown()),
});

export const CrosswalkLink = Type.Object({
  fromFramework: Type.String(),
  from: Type.String(),
  toFramework: Type.String(),
  to: Type.String(),
  relationship: Type.Enum(RELATIONSHIPS),
  strength: Type.Enum(['strong', 'moderate', 'weak', 'organization'], { description: 'strong: 3-4 public routes agree; moderate: 2; weak: 1 (kept so the criterion stays reachable); organization: added by you.' }),
  sources: Type.Array(Type.String(), { description: 'The public mapping routes that back the link.' }),
  note: Type.Union([Type.String(), Type.Null()]),
  origin: Type.Enum(['catalog', 'organization']),
});

const Override = Type.Object({
  id: Type.String(),
  action: Type.Enum(['add', 'reject']),
  relationship: Type.Union([Type.Enum(RELATIONSHIPS), Type.Null()]),
  note: Type.Union([Type.String(), Type.Null()]),
  from: Type.Object({ framework: Type.String(), ref: Type.String() }),
  to: Type.Object({ framework: Type.String(), ref: Type.String() }),
  createdBy: Type.String(),
  createdAt: Timestamp,
});

export const catalogRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/frameworks', {
    schema: {
      tags: ['catalog'], operationId: 'listFrameworks', summary: 'Frameworks in the catalog',
      response: withProblems({
        200: Type.Object({
          items: Type.Array(Type.Object({
            id: Type.String(), name: Type.String(), version: Type.String(), publisher: Type.String(),
            catalogVersion: Type.Integer(), loadedAt: Timestamp, controlCount: Type.Integer(),
          })),
          nextCursor: Type.Null(),
        }),
      }),
    },
    handler: async (req) => catalog.listFrameworks(req.ctx().db),
  });

  app.get('/frameworks/:id/controls', {
    schema: {
      tags: ['catalog'], operationId: 'listFrameworkControls',
      summary: 'Controls of a framework; `q` searches ref, title, keywords and summary (web-search syntax)',
      params: Type.Object({ id: FrameworkId }),
      querystring: Type.Object({
        q: Type.Optional(Type.String({ maxLength: 200 })),
        kind: Type.Optional(Type.String({ maxLength: 50 })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1000 })),
        cursor: Type.Optional(Type.String({ maxLength: 20 })),
      }),
      response: withProblems({ 200: Type.Object({ items: Type.Array(Control), nextCursor: Type.Union([Type.String(), Type.Null()]) }) }),
    },
    handler: async (req) => catalog.listControls(req.ctx().db, req.params.id, { ...req.query, limit: req.query.limit ?? 1000 }),
  });

  app.get('/frameworks/:id/controls/:ref', {
    schema: {
      tags: ['catalog'], operationId: 'getFrameworkControl', summary: 'One control with its aliases and crosswalk links (yours applied)',
      params: Type.Object({ id: FrameworkId, ref: Ref }),
      response: withProblems({ 200: Type.Object({ ...Control.properties, aliases: Type.Array(Type.String()), crosswalk: Type.Array(CrosswalkLink) }) }),
    },
    handler: async (req) => catalog.getControlDetail(req.ctx(), req.params.id, req.params.ref),
  });

  app.get('/crosswalk', {
    schema: {
      tags: ['catalog'], operationId: 'getCrosswalk',
      summary: 'Typed links between frameworks, with strength and provenance; your organization\'s additions and rejections applied',
      querystring: Type.Object({
        from: Type.Optional(FrameworkId),
        to: Type.Optional(FrameworkId),
        ref: Type.Optional(Ref),
      }),
      response: withProblems({
        200: Type.Object({
          items: Type.Array(CrosswalkLink),
          nextCursor: Type.Null(),
          rules: Type.Array(Type.Object({ from: Type.String(), to: Type.String(), rule: Type.String() })),
        }),
      }),
    },
    handler: async (req) => {
      const ctx = req.ctx();
      const ref = req.query.ref ? catalog.normalizeRef(req.query.ref) : undefined;
      const items = await catalog.effectiveCrosswalk(ctx.db, ctx.orgId, { from: req.query.from, to: req.query.to, ref });
      const rules = (await catalog.crosswalkRules(ctx.db, req.query.from, req.query.to)).map((r) => ({ from: r.fromFramework, to: r.toFramework, rule: r.rule }));
      return { items, nextCursor: null, rules };
    },
  });

  app.get('/crosswalk/overrides', {
    schema: {
      tags: ['catalog'], operationId: 'listCrosswalkOverrides', summary: 'Your organization\'s added and rejected crosswalk links',
      response: withProblems({ 200: Type.Object({ items: Type.Array(Override), nextCursor: Type.Null() }) }),
    },
    handler: async (req) => catalog.listCrosswalkOverrides(req.ctx()),
  });

  app.post('/crosswalk/overrides', {
    config: { role: 'editor' },
    schema: {
      tags: ['catalog'], operationId: 'createCrosswalkOverride', summary: 'Add a link the catalog lacks, or reject a catalog link, for your organization only',
      body: Type.Object({
        from: Type.Object({ framework: FrameworkId, ref: Ref }),
        to: Type.Object({ framework: FrameworkId, ref: Ref }),
        action: Type.Enum(['add', 'reject']),
        relationship: Type.Optional(Type.Enum(RELATIONSHIPS)),
        note: Type.Optional(Type.String({ maxLength: 2000 })),
      }),
      response: withProblems({ 201: Override }),
    },
    handler: async (req, reply) => reply.code(201).send(await catalog.addCrosswalkOverride(req.ctx(), req.body)),
  });

  app.delete('/crosswalk/overrides/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['catalog'], operationId: 'deleteCrosswalkOverride', summary: 'Remove an override; the catalog link applies again',
      params: IdParam,
      response: withProblems({ 204: Type.Null() }),
    },
    handler: async (req, reply) => {
      await catalog.deleteCrosswalkOverride(req.ctx(), req.params.id);
      return reply.code(204).send(null);
    },
  });
};
