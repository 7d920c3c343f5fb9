import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Timestamp, withProblems } from '../../lib/schemas.js';
import { RELATIONSHIPS } from './tables.js';
import * as catalog from './service.js';

const FrameworkId = Type.String({ maxLength: 50, description: 'e.g. `iso27001-2022`, `iso27017-2015`, `soc2-2017`, `iso27001-2013`' });
const Ref = Type.String({ minLength: 1, maxLength: 50, description: 'As the standard writes it: `A.8.5`, `CLD.12.1.5`, `CC6.1`; aliases resolve.' });

const CONTROL_EXAMPLE = {
  framework: 'iso27001-2022',
  ref: 'A.8.5',
  kind: 'annex_a',
  title: 'Secure authentication',
  theme: 'Technological controls',
  summary: 'Users and systems prove who they are with authentication strong enough for the sensitivity of what they access.',
  keywords: ['mfa', 'sso', 'account lockout', 'password policy'],
  guidance: {},
  attributes: {},
};
const LINK_EXAMPLE = {
  fromFramework: 'iso27001-2022',
  from: 'A.8.5',
  toFramework: 'soc2-2017',
  to: 'CC6.1',
  relationship: 'intersect',
  strength: 'strong',
  sources: ['csa-ccm', 'scf-strm', 'intuitem-ccf'],
  note: null,
  origin: 'catalog',
};
const OVERRIDE_ID = '0197a4e4-4f50-7162-9374-8596a7b8c9d0';

const ControlFields = {
  framework: Type.String(),
  ref: Type.String(),
  kind: Type.String({ description: '`annex_a`, `clause`, `cloud_control`, `cloud_guidance`, `criterion`' }),
  title: Type.String(),
  theme: Type.Union([Type.String(), Type.Null()]),
  summary: Type.Union([Type.String(), Type.Null()], { description: "Our own words, never the standard's text." }),
  keywords: Type.Array(Type.String()),
  guidance: Type.Object({
    providerGuidance: Type.Optional(
      Type.Union([Type.String(), Type.Null()], {
        description: 'null: the standard gives the cloud service provider no additional implementation guidance here (`guidanceNote` says so).',
      }),
    ),
    customerGuidance: Type.Optional(
      Type.Union([Type.String(), Type.Null()], {
        description: 'null: the standard gives the cloud service customer no additional implementation guidance here (`guidanceNote` says so).',
      }),
    ),
    guidanceNote: Type.Optional(
      Type.String({ description: 'Present when one side is null, e.g. "No additional implementation guidance for the cloud service provider."' }),
    ),
    expectedEvidence: Type.Optional(Type.Array(Type.String())),
    source: Type.Optional(Type.String({ description: 'The clause the item rests on, e.g. `x1631:9.2.2` (ITU-T X.1631 | ISO/IEC 27017:2015).' })),
    sourceNote: Type.Optional(Type.String({ description: "Whether the clause was read in the standard's text or rests on a secondary reading." })),
  }),
  attributes: Type.Record(Type.String(), Type.Unknown()),
};
const Control = Type.Object(ControlFields, {
  $id: 'CatalogControl',
  description: 'A control, clause or criterion of a framework in the catalog; `summary` and guidance are in our own words.',
  examples: [CONTROL_EXAMPLE],
});

export const CrosswalkLink = Type.Object(
  {
    fromFramework: Type.String(),
    from: Type.String(),
    toFramework: Type.String(),
    to: Type.String(),
    relationship: Type.Enum(RELATIONSHIPS),
    strength: Type.Enum(['strong', 'moderate', 'weak', 'organization'], {
      description: 'strong: 3-4 public routes agree; moderate: 2; weak: 1 (kept so the criterion stays reachable); organization: added by you.',
    }),
    sources: Type.Array(Type.String(), { description: 'The public mapping routes that back the link.' }),
    note: Type.Union([Type.String(), Type.Null()]),
    origin: Type.Enum(['catalog', 'organization']),
  },
  {
    $id: 'CrosswalkLink',
    description: 'A typed link between controls of two frameworks, with its strength and the public routes that back it.',
    examples: [LINK_EXAMPLE],
  },
);

const ControlDetail = Type.Object(
  { ...ControlFields, aliases: Type.Array(Type.String()), crosswalk: Type.Array(CrosswalkLink) },
  {
    $id: 'CatalogControlDetail',
    description: 'A control with its aliases (earlier or alternative refs) and its crosswalk links, your overrides applied.',
    examples: [{ ...CONTROL_EXAMPLE, aliases: ['A.9.4.2'], crosswalk: [LINK_EXAMPLE] }],
  },
);

const Framework = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    version: Type.String(),
    publisher: Type.String(),
    catalogVersion: Type.Integer(),
    loadedAt: Timestamp,
    controlCount: Type.Integer(),
  },
  {
    $id: 'Framework',
    description: 'A framework of the catalog (read-only content, versioned by `catalogVersion`).',
    examples: [
      {
        id: 'iso27001-2022',
        name: 'ISO/IEC 27001:2022',
        version: '2022',
        publisher: 'ISO/IEC',
        catalogVersion: 1,
        loadedAt: '2026-05-01T07:00:00.000Z',
        controlCount: 134,
      },
    ],
  },
);

const FrameworkParam = Type.Object({
  id: Type.String({ maxLength: 50, description: 'e.g. `iso27001-2022`, `iso27017-2015`, `soc2-2017`, `iso27001-2013`', examples: ['iso27001-2022'] }),
});
const OverrideIdParam = Type.Object({ id: Type.String({ format: 'uuid', description: 'The override id.', examples: [OVERRIDE_ID] }) });

const Override = Type.Object(
  {
    id: Type.String(),
    action: Type.Enum(['add', 'reject']),
    relationship: Type.Union([Type.Enum(RELATIONSHIPS), Type.Null()]),
    note: Type.Union([Type.String(), Type.Null()]),
    from: Type.Object({ framework: Type.String(), ref: Type.String() }),
    to: Type.Object({ framework: Type.String(), ref: Type.String() }),
    createdBy: Type.String(),
    createdAt: Timestamp,
  },
  {
    $id: 'CrosswalkOverride',
    description: "Your organization's change to the crosswalk: a link added, or a catalog link rejected.",
    examples: [
      {
        id: OVERRIDE_ID,
        action: 'add',
        relationship: 'subset',
        note: 'Our MFA rollout also covers the logical access criterion.',
        from: { framework: 'iso27001-2022', ref: 'A.8.5' },
        to: { framework: 'soc2-2017', ref: 'CC6.6' },
        createdBy: '0197a4a0-0b1c-7d2e-8f30-415263748596',
        createdAt: '2026-05-28T11:20:00.000Z',
      },
    ],
  },
);

export const catalogRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/frameworks', {
    schema: {
      tags: ['catalog'],
      operationId: 'listFrameworks',
      summary: 'Frameworks in the catalog',
      description:
        'Every framework the catalog holds (ISO/IEC 27001:2022 and 2013, ISO/IEC 27017:2015, SOC 2 2017) with its control count, in one page (`nextCursor` is always null).',
      response: withProblems({ 200: Type.Object({ items: Type.Array(Framework), nextCursor: Type.Null() }) }),
    },
    handler: async (req) => catalog.listFrameworks(req.ctx().db),
  });

  app.get('/frameworks/:id/controls', {
    schema: {
      tags: ['catalog'],
      operationId: 'listFrameworkControls',
      summary: 'Controls of a framework; `q` searches ref, title, keywords and summary (web-search syntax)',
      description:
        "The framework's controls in catalog order, optionally filtered by `kind` or searched with `q` (ranked by relevance). An unknown framework is 404. Pages hold up to 1000 controls, so one page usually holds them all.",
      params: FrameworkParam,
      querystring: Type.Object({
        q: Type.Optional(Type.String({ maxLength: 200 })),
        kind: Type.Optional(Type.String({ maxLength: 50 })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1000 })),
        cursor: Type.Optional(Type.String({ maxLength: 200 })),
      }),
      response: withProblems({ 200: Type.Object({ items: Type.Array(Control), nextCursor: Type.Union([Type.String(), Type.Null()]) }) }),
    },
    handler: async (req) => catalog.listControls(req.ctx().db, req.params.id, { ...req.query, limit: req.query.limit ?? 1000 }),
  });

  app.get('/frameworks/:id/controls/:ref', {
    schema: {
      tags: ['catalog'],
      operationId: 'getFrameworkControl',
      summary: 'One control with its aliases and crosswalk links (yours applied)',
      description:
        "A control by its ref as the standard writes it; an alias (an older or alternative ref) resolves to the control. The crosswalk shows the links in both directions with your organization's additions and rejections applied.",
      params: Type.Object({ id: FrameworkId, ref: Ref }),
      response: withProblems({ 200: ControlDetail }),
    },
    handler: async (req) => catalog.getControlDetail(req.ctx(), req.params.id, req.params.ref),
  });

  app.get('/crosswalk', {
    schema: {
      tags: ['catalog'],
      operationId: 'getCrosswalk',
      summary: "Typed links between frameworks, with strength and provenance; your organization's additions and rejections applied",
      description:
        'Every link between two frameworks (or touching one control with `ref`), in one page, with the rule each framework pair was built by. Rejected catalog links are left out; links you added have `origin: organization`.',
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
      const items = await catalog.effectiveCrosswalk(ctx, { from: req.query.from, to: req.query.to, ref });
      const rules = (await catalog.crosswalkRules(ctx.db, req.query.from, req.query.to)).map((r) => ({
        from: r.fromFramework,
        to: r.toFramework,
        rule: r.rule,
      }));
      return { items, nextCursor: null, rules };
    },
  });

  app.get('/crosswalk/overrides', {
    schema: {
      tags: ['catalog'],
      operationId: 'listCrosswalkOverrides',
      summary: "Your organization's added and rejected crosswalk links",
      description: 'The overrides your organization made to the catalog crosswalk, in one page; the crosswalk and the SOC 2 report apply them.',
      response: withProblems({ 200: Type.Object({ items: Type.Array(Override), nextCursor: Type.Null() }) }),
    },
    handler: async (req) => catalog.listCrosswalkOverrides(req.ctx()),
  });

  app.post('/crosswalk/overrides', {
    config: { role: 'editor' },
    schema: {
      tags: ['catalog'],
      operationId: 'createCrosswalkOverride',
      summary: 'Add a link the catalog lacks, or reject a catalog link, for your organization only',
      description:
        'Records the override; reports and answers use it from then on. Unknown controls are 400; adding a link the catalog already has, or a second override for the same pair, is 409; rejecting a link the catalog does not have is 422.',
      body: Type.Object(
        {
          from: Type.Object({ framework: FrameworkId, ref: Ref }),
          to: Type.Object({ framework: FrameworkId, ref: Ref }),
          action: Type.Enum(['add', 'reject']),
          relationship: Type.Optional(Type.Enum(RELATIONSHIPS)),
          note: Type.Optional(Type.String({ maxLength: 2000 })),
        },
        {
          examples: [
            {
              from: { framework: 'iso27001-2022', ref: 'A.8.5' },
              to: { framework: 'soc2-2017', ref: 'CC6.6' },
              action: 'add',
              relationship: 'subset',
              note: 'Our MFA rollout also covers the logical access criterion.',
            },
          ],
        },
      ),
      response: withProblems({ 201: Override }, ['conflict', 'unprocessable']),
    },
    handler: async (req, reply) => reply.code(201).send(await catalog.addCrosswalkOverride(req.ctx(), req.body)),
  });

  app.delete('/crosswalk/overrides/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['catalog'],
      operationId: 'deleteCrosswalkOverride',
      summary: 'Remove an override; the catalog link applies again',
      description: "Deletes your organization's override: a link you added disappears, a catalog link you rejected is back in the crosswalk and the reports.",
      params: OverrideIdParam,
      response: withProblems({ 204: Type.Null() }),
    },
    handler: async (req, reply) => {
      await catalog.deleteCrosswalkOverride(req.ctx(), req.params.id);
      return reply.code(204).send(null);
    },
  });
};
