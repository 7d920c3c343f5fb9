import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PageQuery, pageOf } from '../../lib/pagination.js';
import { Nullable, Timestamp, withProblems } from '../../lib/schemas.js';
import * as service from './service.js';

const ACCOUNT_ID = '0197b1d0-4a2b-7c3d-8e4f-5a6b7c8d9e0f';
const QUESTIONNAIRE_ID = '0197b1d2-1a2b-7c3d-9e4f-5a6b7c8d9e10';
const GRANT_ID = '0197b1c8-2b3c-7d4e-8f50-6a7b8c9d0e1f';
const DOCUMENT_ID = '0197b1c0-3c4d-7e5f-8a61-7b8c9d0e1f20';
const REQUEST_ID = '0197b1c6-4d5e-7f60-9b72-8c9d0e1f2031';

const Domain = Type.String({
  minLength: 3,
  maxLength: 254,
  description: 'An e-mail domain (`buyer.example.com`; a leading `@` is dropped, case is ignored). Exact: a subdomain is another domain.',
});
const Domains = Type.Array(Domain, {
  maxItems: 50,
  description: 'E-mail domains whose people belong to the account; a domain belongs to at most one account of the organization (409 on a clash).',
});
const Name = Type.String({ minLength: 1, maxLength: 200, description: 'Unique in the organization, case aside (409 otherwise).' });
const CrmRef = Type.Union([Type.String({ maxLength: 200 }), Type.Null()], {
  description: "The account's id in your CRM (e.g. a Salesforce account id); stored as given, null clears it.",
});

const CreateBody = Type.Object(
  { name: Name, domains: Type.Optional(Domains), crmRef: Type.Optional(CrmRef) },
  { examples: [{ name: 'Buyer Inc', domains: ['buyer.example.com'], crmRef: '0015g00000XyZ12AAB' }] },
);
const PatchBody = Type.Object(
  { name: Type.Optional(Name), domains: Type.Optional(Domains), crmRef: Type.Optional(CrmRef) },
  { examples: [{ domains: ['buyer.example.com', 'buyer-group.example'] }] },
);

const accountFields = {
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  domains: Type.Array(Type.String()),
  crmRef: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
};
const ACCOUNT_EXAMPLE = {
  id: ACCOUNT_ID,
  name: 'Buyer Inc',
  domains: ['buyer.example.com'],
  crmRef: '0015g00000XyZ12AAB',
  createdAt: '2026-06-01T09:00:00.000Z',
  updatedAt: '2026-06-01T09:00:00.000Z',
};

const Account = Type.Object(accountFields, {
  $id: 'Account',
  description: 'A customer account: the e-mail domains its people write from, and its CRM reference.',
  examples: [ACCOUNT_EXAMPLE],
});

const AccountQuestionnaire = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  status: Type.String({ description: 'imported, queued, filling, filled or failed.' }),
  origin: Type.Enum(['vendor', 'prospect']),
  via: Type.Enum(['attached', 'domain'], {
    description: "attached: by id (PUT /accounts/{id}/questionnaires/{questionnaireId}); domain: a prospect of the account's domains uploaded it.",
  }),
  attachedAt: Nullable(Timestamp),
  prospect: Nullable(Type.Object({ email: Type.String(), name: Nullable(Type.String()), company: Nullable(Type.String()) })),
  counts: Type.Object({
    total: Type.Integer(),
    answered: Type.Integer(),
    approved: Type.Integer(),
    needsReview: Type.Integer(),
  }),
  open: Type.Boolean({ description: 'Answers remain to approve and the file has not been released to the prospect.' }),
  dueAt: Nullable(Timestamp),
  releasedAt: Nullable(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const AccountDetail = Type.Object(
  {
    ...accountFields,
    summary: Type.Object({
      questionnairesOpen: Type.Integer(),
      questionnairesDue: Type.Integer({ description: 'Open questionnaires due within 7 days or overdue (those with a due date).' }),
      documentsShared: Type.Integer({ description: 'Distinct documents the grants of the account share.' }),
      ndaAccepted: Type.Boolean({ description: "Someone of the account's domains accepted the NDA when asking for access." }),
      lastVisitAt: Nullable(Timestamp),
    }),
    questionnaires: Type.Array(AccountQuestionnaire),
    accessRequests: Type.Array(
      Type.Object({
        id: Type.String({ format: 'uuid' }),
        name: Type.String(),
        email: Type.String(),
        company: Type.String(),
        status: Type.Enum(['pending', 'approved', 'denied']),
        ndaAccepted: Type.Boolean(),
        ndaVersion: Type.String({ description: 'SHA-256 of the NDA text accepted.' }),
        ndaAcceptedAt: Timestamp,
        grantId: Nullable(Type.String({ format: 'uuid' })),
        createdAt: Timestamp,
      }),
    ),
    grants: Type.Array(
      Type.Object({
        id: Type.String({ format: 'uuid' }),
        accessRequestId: Nullable(Type.String({ format: 'uuid' })),
        email: Type.String(),
        name: Nullable(Type.String()),
        company: Nullable(Type.String()),
        documentIds: Type.Array(Type.String({ format: 'uuid' })),
        status: Type.Enum(['active', 'expired', 'revoked']),
        ndaAccepted: Type.Boolean({ description: 'The access request the grant came from accepted the NDA.' }),
        ndaAcceptedAt: Nullable(Timestamp),
        expiresAt: Timestamp,
        createdAt: Timestamp,
        lastUsedAt: Nullable(Timestamp),
      }),
    ),
    documentsShared: Type.Array(
      Type.Object({
        documentId: Type.String({ format: 'uuid' }),
        title: Nullable(Type.String({ description: 'Null when the document was deleted since.' })),
        grantIds: Type.Array(Type.String({ format: 'uuid' })),
        downloads: Type.Integer({ description: "Downloads through the account's grants." }),
      }),
    ),
    trustActivity: Type.Object(
      {
        visits: Type.Integer(),
        downloads: Type.Integer(),
        events: Type.Array(
          Type.Object({
            id: Type.String({ format: 'uuid' }),
            at: Timestamp,
            kind: Type.Enum(['visit', 'download']),
            email: Type.String(),
            grantId: Type.String({ format: 'uuid' }),
            documentId: Nullable(Type.String({ format: 'uuid' })),
            documentTitle: Nullable(Type.String()),
          }),
          { description: 'The newest 200 events.' },
        ),
      },
      { description: "Grantees' visits and downloads through the account's grants (anonymous page views belong to no account)." },
    ),
  },
  {
    $id: 'AccountDetail',
    description: 'An account and what belongs to it: questionnaires, access requests and grants, shared documents, trust-page activity and a summary.',
    examples: [
      {
        ...ACCOUNT_EXAMPLE,
        summary: { questionnairesOpen: 1, questionnairesDue: 0, documentsShared: 1, ndaAccepted: true, lastVisitAt: '2026-06-02T10:15:00.000Z' },
        questionnaires: [
          {
            id: QUESTIONNAIRE_ID,
            name: 'Vendor security review (pat@buyer.example.com)',
            status: 'filled',
            origin: 'prospect',
            via: 'domain',
            attachedAt: null,
            prospect: { email: 'pat@buyer.example.com', name: 'Pat Buyer', company: 'Buyer Inc' },
            counts: { total: 40, answered: 40, approved: 31, needsReview: 9 },
            open: true,
            dueAt: null,
            releasedAt: null,
            createdAt: '2026-06-02T10:20:00.000Z',
            updatedAt: '2026-06-02T10:21:00.000Z',
          },
        ],
        accessRequests: [
          {
            id: REQUEST_ID,
            name: 'Pat Buyer',
            email: 'pat@buyer.example.com',
            company: 'Buyer Inc',
            status: 'approved',
            ndaAccepted: true,
            ndaVersion: '9f2c4e5d0b7a1c3e8f6d2b4a0c9e7f5d3b1a8c6e4f2d0b9a7c5e3f1d8b6a4c2e',
            ndaAcceptedAt: '2026-06-02T09:58:00.000Z',
            grantId: GRANT_ID,
            createdAt: '2026-06-02T09:58:00.000Z',
          },
        ],
        grants: [
          {
            id: GRANT_ID,
            accessRequestId: REQUEST_ID,
            email: 'pat@buyer.example.com',
            name: 'Pat Buyer',
            company: 'Buyer Inc',
            documentIds: [DOCUMENT_ID],
            status: 'active',
            ndaAccepted: true,
            ndaAcceptedAt: '2026-06-02T09:58:00.000Z',
            expiresAt: '2026-07-02T10:00:00.000Z',
            createdAt: '2026-06-02T10:00:00.000Z',
            lastUsedAt: '2026-06-02T10:15:00.000Z',
          },
        ],
        documentsShared: [{ documentId: DOCUMENT_ID, title: 'SOC 2 Type II report', grantIds: [GRANT_ID], downloads: 1 }],
        trustActivity: {
          visits: 1,
          downloads: 1,
          events: [
            {
              id: '0197b1c9-5e6f-7a80-8c93-9d0e1f203142',
              at: '2026-06-02T10:15:00.000Z',
              kind: 'visit',
              email: 'pat@buyer.example.com',
              grantId: GRANT_ID,
              documentId: null,
              documentTitle: null,
            },
          ],
        },
      },
    ],
  },
);

const IdParam = Type.Object({ id: Type.String({ format: 'uuid', description: 'The account id.', examples: [ACCOUNT_ID] }) });
const AttachParams = Type.Object({
  id: Type.String({ format: 'uuid', description: 'The account id.', examples: [ACCOUNT_ID] }),
  questionnaireId: Type.String({ format: 'uuid', description: 'A questionnaire of the organization.', examples: [QUESTIONNAIRE_ID] }),
});
const ListQuery = Type.Object({
  ...PageQuery.properties,
  domain: Type.Optional(Type.String({ maxLength: 254, description: 'Only the account that has this e-mail domain.', examples: ['buyer.example.com'] })),
});

export const customerAccountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/accounts', {
    config: { role: 'editor' },
    schema: {
      tags: ['accounts'],
      operationId: 'createAccount',
      summary: 'Create a customer account from its name, e-mail domains and CRM reference',
      description:
        "Groups a customer's questionnaires, access requests, grants and trust-page visits under one account by the e-mail domains given (lower-cased; a domain another account has is a 409, as is a name taken). Audited as `account.created`.",
      body: CreateBody,
      response: withProblems({ 201: Account }, ['conflict']),
    },
    handler: async (req, reply) => reply.code(201).send(await service.createAccount(req.ctx(), req.body)),
  });

  app.get('/accounts', {
    schema: {
      tags: ['accounts'],
      operationId: 'listAccounts',
      summary: "The organization's customer accounts, newest first",
      description: 'Accounts without what belongs to them (GET /accounts/{id} gathers that); `?domain=` finds the account an e-mail domain belongs to.',
      querystring: ListQuery,
      response: withProblems({ 200: pageOf(Account) }),
    },
    handler: async (req) => service.listAccounts(req.ctx(), { limit: req.query.limit ?? 50, cursor: req.query.cursor, domain: req.query.domain }),
  });

  app.get('/accounts/:id', {
    schema: {
      tags: ['accounts'],
      operationId: 'getAccount',
      summary: 'An account with its questionnaires, NDA state, shared documents and trust-page activity',
      description:
        "Gathers, at request time: questionnaires attached by id and those prospects of the account's domains uploaded under a grant (each with status, answer counts and due date), access requests and grants by requester e-mail domain with their NDA acceptance, the documents the grants share, grantees' visits and downloads, and a summary. Lists hold the newest 200 of each. Another organization's account is 404.",
      params: IdParam,
      response: withProblems({ 200: AccountDetail }),
    },
    handler: async (req) => service.getAccount(req.ctx(), req.params.id),
  });

  app.patch('/accounts/:id', {
    config: { role: 'editor' },
    schema: {
      tags: ['accounts'],
      operationId: 'updateAccount',
      summary: "Change an account's name, domains (replaced as a whole) or CRM reference",
      description:
        'Fields not sent are kept; `domains` replaces the list, and a domain another account has is a 409, as is a name taken. Audited as `account.updated` with the domains before and after.',
      params: IdParam,
      body: PatchBody,
      response: withProblems({ 200: Account }, ['conflict']),
    },
    handler: async (req) => service.updateAccount(req.ctx(), req.params.id, req.body),
  });

  app.put('/accounts/:id/questionnaires/:questionnaireId', {
    config: { role: 'editor' },
    schema: {
      tags: ['accounts'],
      operationId: 'attachAccountQuestionnaire',
      summary: 'Attach a questionnaire to the account by id',
      description:
        'A questionnaire belongs to at most one account: one attached elsewhere moves here (attaching again where it is changes nothing). A questionnaire not in this organization is 404. Audited as `account.questionnaire_attached`.',
      params: AttachParams,
      response: withProblems({ 204: Type.Null() }),
    },
    handler: async (req, reply) => {
      await service.attachQuestionnaire(req.ctx(), req.params.id, req.params.questionnaireId);
      return reply.code(204).send(null);
    },
  });

  app.delete('/accounts/:id/questionnaires/:questionnaireId', {
    config: { role: 'editor' },
    schema: {
      tags: ['accounts'],
      operationId: 'detachAccountQuestionnaire',
      summary: 'Detach a questionnaire from the account',
      description:
        'Removes the attachment by id; the questionnaire is kept, and one a prospect of the account uploaded still shows through its domain. Not attached here: 404. Audited as `account.questionnaire_detached`.',
      params: AttachParams,
      response: withProblems({ 204: Type.Null() }),
    },
    handler: async (req, reply) => {
      await service.detachQuestionnaire(req.ctx(), req.params.id, req.params.questionnaireId);
      return reply.code(204).send(null);
    },
  });
};
