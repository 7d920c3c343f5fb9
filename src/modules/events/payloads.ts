import { Type, type Static, type TSchema } from 'typebox';
import { CERTIFICATION_KINDS, CONTROL_STATUSES, FACT_TYPES, FACT_VISIBILITIES, TRUST_UPDATE_AUDIENCES, TRUST_UPDATE_CATEGORIES } from './vocabulary.js';
import type { EventType } from './tables.js';

/**
 * The `data` of every event type: the webhook contract (the OpenAPI `webhooks` section is built
 * from these) and the type emitEvent checks each emit site against. `satisfies` keeps each
 * schema's own type and refuses a new event type without a payload.
 */

const Uuid = (description?: string) => Type.String({ format: 'uuid', ...(description ? { description } : {}) });
const DateTime = (description: string) => Type.String({ format: 'date-time', description });
const NullableString = (description: string) => Type.Union([Type.String(), Type.Null()], { description });
const DocumentIds = Type.Array(Uuid(), { description: 'The trust-page documents concerned (NDA documents of the grant).' });
const Email = Type.String({ format: 'email', description: "The requester's email address, lowercased." });
const Domain = Type.String({ description: 'The domain of the email address, e.g. `example.com`.' });
const Company = NullableString("The requester's company as given; null when not known.");
const AccessRequestId = Uuid('The access request.');
/** Kept for one release after the rename to accessRequestId; same value. */
const DeprecatedRequestId = Type.String({
  format: 'uuid',
  deprecated: true,
  description: 'Deprecated: the same value as `accessRequestId`, kept for one release; read `accessRequestId`.',
});
const NullableAccessRequestId = Type.Union([Uuid(), Type.Null()], { description: 'The access request the grant answers; null for a grant made without one.' });
const NullableDeprecatedRequestId = Type.Union([Type.String({ format: 'uuid' }), Type.Null()], {
  deprecated: true,
  description: 'Deprecated: the same value as `accessRequestId`, kept for one release; read `accessRequestId`.',
});

// Example values shared by the payload examples, so the examples tell one consistent story.
const ORG_REQUEST = '0197a5c2-6d10-7a21-8b3c-4d5e6f708192';
const GRANT = '0197a5c3-0a2b-7c4d-9e5f-60718293a4b5';
const DOC_SOC2 = '0197a4f0-1c2d-7e3f-8a4b-5c6d7e8f9a0b';
const DOC_PENTEST = '0197a4f0-2d3e-7f40-9b5c-6d7e8f9a0b1c';
const QUESTIONNAIRE = '0197a5d0-3e4f-7051-8c6d-7e8f9a0b1c2d';

export const EVENT_PAYLOADS = {
  'questionnaire.imported': Type.Object(
    {
      id: Uuid('The questionnaire.'),
      name: Type.String(),
      questionCount: Type.Integer({ minimum: 0 }),
      origin: Type.Enum(['vendor', 'prospect'], { description: 'vendor: imported by the organization; prospect: uploaded through a trust-page grant.' }),
    },
    {
      $id: 'QuestionnaireImportedEvent',
      description: "A questionnaire was imported (API upload or a prospect's upload on the trust page).",
      examples: [{ id: QUESTIONNAIRE, name: 'Acme vendor security assessment 2026', questionCount: 142, origin: 'vendor' }],
    },
  ),
  'questionnaire.filled': Type.Object(
    {
      id: Uuid('The questionnaire.'),
      name: Type.Optional(Type.String({ description: 'Absent when the questionnaire was deleted while it was being filled.' })),
      questionCount: Type.Optional(Type.Integer({ minimum: 0 })),
      byStatus: Type.Object(
        {
          draft: Type.Optional(Type.Integer({ minimum: 0 })),
          needs_review: Type.Optional(Type.Integer({ minimum: 0 })),
          approved: Type.Optional(Type.Integer({ minimum: 0 })),
          rejected: Type.Optional(Type.Integer({ minimum: 0 })),
          unanswered: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        { description: 'How many questions ended in each answer status; statuses with none are left out.' },
      ),
    },
    {
      $id: 'QuestionnaireFilledEvent',
      description: 'A fill job finished: every question has a drafted answer or was left for review.',
      examples: [
        { id: QUESTIONNAIRE, name: 'Acme vendor security assessment 2026', questionCount: 142, byStatus: { draft: 118, needs_review: 21, approved: 3 } },
      ],
    },
  ),
  'answer.needs_review': Type.Object(
    {
      questionnaireId: Uuid(),
      questionId: Uuid(),
      ref: NullableString("The question's own reference in the buyer's file (e.g. `IAM-02`); null when it has none."),
      confidence: Type.Number({ minimum: 0, maximum: 1 }),
    },
    {
      $id: 'AnswerNeedsReviewEvent',
      description: 'A drafted answer fell below the confidence threshold and waits for a person to review it.',
      examples: [{ questionnaireId: QUESTIONNAIRE, questionId: '0197a5d0-4f50-7162-9d7e-8f9a0b1c2d3e', ref: 'IAM-02', confidence: 0.42 }],
    },
  ),
  'question.assigned': Type.Object(
    {
      questionnaireId: Uuid(),
      questionIds: Type.Array(Uuid(), {
        maxItems: 1000,
        description: 'The questions assigned; a larger assignment sends one event per 1,000 questions.',
      }),
      assigneeId: Uuid('The member the questions are assigned to (a user id).'),
      assignedBy: Type.String({ description: 'Who assigned them (a user or API key id).' }),
      dueAt: Type.Union([DateTime('When the questions are due.'), Type.Null()], { description: 'When the questions are due; null when no due date.' }),
    },
    {
      $id: 'QuestionAssignedEvent',
      description: 'Questions of a questionnaire were assigned to a member (POST /questionnaires/{id}/assignments with an assignee).',
      examples: [
        {
          questionnaireId: QUESTIONNAIRE,
          questionIds: ['0197a5d0-4f50-7162-9d7e-8f9a0b1c2d3e'],
          assigneeId: '0197a4a0-0b1c-7d2e-8f30-415263748596',
          assignedBy: '0197a4a0-1c2d-7e3f-8041-526374859607',
          dueAt: '2026-06-12T17:00:00.000Z',
        },
      ],
    },
  ),
  'questionnaire.due_soon': Type.Object(
    {
      questionnaireId: Uuid(),
      name: Type.String(),
      ownerId: Type.Union([Uuid(), Type.Null()], { description: "The questionnaire's owner (a user id); null when it has none." }),
      dueAt: DateTime('When the questionnaire is due (within 48 hours).'),
      openQuestions: Type.Integer({ minimum: 0, description: 'Questions whose answer is not approved yet.' }),
    },
    {
      $id: 'QuestionnaireDueSoonEvent',
      description:
        'A questionnaire that is not done (not released, and with questions not yet approved) is due within 48 hours; sent once per due date, again when the due date moves later and comes close again.',
      examples: [
        {
          questionnaireId: QUESTIONNAIRE,
          name: 'Acme vendor security assessment 2026',
          ownerId: '0197a4a0-0b1c-7d2e-8f30-415263748596',
          dueAt: '2026-06-12T17:00:00.000Z',
          openQuestions: 17,
        },
      ],
    },
  ),
  'comment.created': Type.Object(
    {
      commentId: Uuid('The comment.'),
      questionnaireId: Uuid(),
      questionId: Uuid(),
      authorId: Type.String({ description: 'The member who wrote it (a user id).' }),
      mentions: Type.Array(Type.String(), { description: 'The members the comment mentions (user ids), to notify.' }),
      createdAt: DateTime('When it was written.'),
    },
    {
      $id: 'CommentCreatedEvent',
      description: "A member commented on a question (internal team work). The comment's text is not sent: read it through the API.",
      examples: [
        {
          commentId: '0197a5d1-0a1b-7c2d-8e3f-405162738495',
          questionnaireId: QUESTIONNAIRE,
          questionId: '0197a5d0-4f50-7162-9d7e-8f9a0b1c2d3e',
          authorId: '0197a4a0-0b1c-7d2e-8f30-415263748596',
          mentions: ['0197a4a0-1c2d-7e3f-9041-526374859607'],
          createdAt: '2026-06-04T10:15:00.000Z',
        },
      ],
    },
  ),
  'control.updated': Type.Object(
    {
      framework: Type.String({ description: '`iso27001-2022` or `iso27017-2015`.' }),
      ref: Type.String({ description: 'The control, as the standard writes it: `A.8.5`, `CLD.12.1.5`.' }),
      version: Type.Integer({ minimum: 1, description: "The answer's new version." }),
      changed: Type.Array(Type.String(), { description: 'The fields this version changed.' }),
      status: Type.Enum(CONTROL_STATUSES),
      applicable: Type.Boolean(),
    },
    {
      $id: 'ControlUpdatedEvent',
      description: 'A control answer was recorded or changed (a new version).',
      examples: [{ framework: 'iso27001-2022', ref: 'A.8.5', version: 4, changed: ['status', 'implementation'], status: 'implemented', applicable: true }],
    },
  ),
  'profile.fact_changed': Type.Object(
    {
      key: Type.String({ description: 'The fact, e.g. `bcdr.rto_hours` or `custom.<slug>`.' }),
      change: Type.Enum(['created', 'updated', 'deleted']),
      version: Type.Integer({ minimum: 1 }),
      type: Type.Enum(FACT_TYPES),
      value: Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Array(Type.String()), Type.Null()], {
        description: 'The new value; null when deleted.',
      }),
      visibility: Type.Enum(FACT_VISIBILITIES),
      previousVersion: Type.Union([Type.Integer(), Type.Null()], { description: 'null when the fact is new.' }),
      changed: Type.Array(Type.String(), { description: 'The fields this version changed.' }),
    },
    {
      $id: 'ProfileFactChangedEvent',
      description: 'An organization profile fact was created, changed or deleted.',
      examples: [
        { key: 'bcdr.rto_hours', change: 'updated', version: 3, type: 'number', value: 4, visibility: 'public', previousVersion: 2, changed: ['value'] },
      ],
    },
  ),
  'library.entry_stale': Type.Object(
    {
      id: Uuid('The library entry.'),
      ownerId: Type.String({ description: "The entry's owner (a user id), who should look at it." }),
      question: Type.String({ maxLength: 500, description: "The entry's question, cut at 500 characters." }),
      reason: Type.String({ description: 'Why it went stale, in one sentence.' }),
    },
    {
      $id: 'LibraryEntryStaleEvent',
      description: 'An approved library answer went stale: a control, fact, document or evidence it rests on changed or expired.',
      examples: [
        {
          id: '0197a5e1-5061-7273-8e8f-9a0b1c2d3e4f',
          ownerId: '0197a4a0-0b1c-7d2e-8f30-415263748596',
          question: 'Do you encrypt customer data at rest?',
          reason: 'control A.8.24 changed in version 5 (implementation)',
        },
      ],
    },
  ),
  'evidence.expiring': Type.Object(
    {
      id: Uuid('The evidence.'),
      title: Type.String(),
      expiresAt: DateTime('When it expires (within 30 days).'),
    },
    {
      $id: 'EvidenceExpiringEvent',
      description: 'Evidence expires within 30 days; sent once per evidence and expiry date.',
      examples: [{ id: '0197a5f2-6172-7384-9f9a-0b1c2d3e4f50', title: 'Penetration test report 2025', expiresAt: '2026-07-01T00:00:00.000Z' }],
    },
  ),
  'evidence.expired': Type.Object(
    {
      id: Uuid('The evidence.'),
      title: Type.String(),
      expiresAt: DateTime('When it expired.'),
    },
    {
      $id: 'EvidenceExpiredEvent',
      description: 'Evidence expired; library answers resting on its controls go stale.',
      examples: [{ id: '0197a5f2-6172-7384-9f9a-0b1c2d3e4f50', title: 'Penetration test report 2025', expiresAt: '2026-07-01T00:00:00.000Z' }],
    },
  ),
  'certification.expiring': Type.Object(
    {
      id: Uuid('The certification.'),
      name: Type.String(),
      kind: Type.Enum(CERTIFICATION_KINDS),
      status: Type.Enum(['due_soon', 'stale', 'expired'], { description: 'The computed status that triggered the notice.' }),
      reason: Type.String({ description: 'Why, in one sentence.' }),
    },
    {
      $id: 'CertificationExpiringEvent',
      description: 'A certificate or report turned due soon, stale (a missed surveillance audit, a SOC 2 report needing a bridge letter) or expired.',
      examples: [
        {
          id: '0197a603-7283-7495-8a0b-1c2d3e4f5061',
          name: 'ISO/IEC 27001:2022 certificate',
          kind: 'iso27001',
          status: 'due_soon',
          reason: 'The next surveillance audit is due on 2026-08-15, within 60 days.',
        },
      ],
    },
  ),
  'access_request.created': Type.Object(
    {
      accessRequestId: AccessRequestId,
      requestId: DeprecatedRequestId,
      name: NullableString("The requester's name."),
      email: Email,
      company: Company,
      domain: Domain,
      reason: NullableString('Why they ask, as given.'),
      documentIds: Type.Array(Uuid(), { description: 'The NDA documents asked for; empty: all of them.' }),
      ndaVersion: Type.String({ description: 'The NDA text accepted, as `sha256:<hex>` of its text.' }),
    },
    {
      $id: 'AccessRequestCreatedEvent',
      description: 'A prospect asked for the NDA documents on the trust page.',
      examples: [
        {
          accessRequestId: ORG_REQUEST,
          requestId: ORG_REQUEST,
          name: 'Dana Whitfield',
          email: 'dana@example.com',
          company: 'Example Corp',
          domain: 'example.com',
          reason: 'Vendor due diligence for our CRM rollout',
          documentIds: [DOC_SOC2],
          ndaVersion: 'sha256:3b5d5c3712955042212316173ccf37be800f5b4b5d8b1bd6c4d2c8d0f6e1a2b3',
        },
      ],
    },
  ),
  'access_request.approved': Type.Object(
    {
      accessRequestId: AccessRequestId,
      requestId: DeprecatedRequestId,
      grantId: Uuid('The grant issued.'),
      name: NullableString("The requester's name."),
      email: Email,
      company: Company,
      domain: Domain,
      documentIds: DocumentIds,
      expiresAt: DateTime('When the grant ends.'),
      autoApproved: Type.Boolean({ description: 'true: the email domain is on the auto-approve list; false: a person approved it.' }),
    },
    {
      $id: 'AccessRequestApprovedEvent',
      description: 'An access request was approved (by a person or by the auto-approve list) and a grant issued.',
      examples: [
        {
          accessRequestId: ORG_REQUEST,
          requestId: ORG_REQUEST,
          grantId: GRANT,
          name: 'Dana Whitfield',
          email: 'dana@example.com',
          company: 'Example Corp',
          domain: 'example.com',
          documentIds: [DOC_SOC2, DOC_PENTEST],
          expiresAt: '2026-07-04T09:30:00.000Z',
          autoApproved: false,
        },
      ],
    },
  ),
  'access_request.denied': Type.Object(
    {
      accessRequestId: AccessRequestId,
      requestId: DeprecatedRequestId,
      name: NullableString("The requester's name."),
      email: Email,
      company: Company,
      domain: Domain,
      note: NullableString('The decision note, if the person who denied it wrote one.'),
    },
    {
      $id: 'AccessRequestDeniedEvent',
      description: 'An access request was denied; the prospect gets no grant.',
      examples: [
        {
          accessRequestId: ORG_REQUEST,
          requestId: ORG_REQUEST,
          name: 'Dana Whitfield',
          email: 'dana@example.com',
          company: 'Example Corp',
          domain: 'example.com',
          note: 'No active opportunity with this company',
        },
      ],
    },
  ),
  'access_grant.created': Type.Object(
    {
      grantId: Uuid('The grant.'),
      accessRequestId: NullableAccessRequestId,
      requestId: NullableDeprecatedRequestId,
      email: Email,
      company: Company,
      domain: Domain,
      documentIds: DocumentIds,
      expiresAt: DateTime('When the grant ends.'),
      autoApproved: Type.Boolean({ description: 'true: issued by the auto-approve list.' }),
    },
    {
      $id: 'AccessGrantCreatedEvent',
      description: 'A grant to the NDA documents was issued; its link is delivered by the organization, never by the public API.',
      examples: [
        {
          grantId: GRANT,
          accessRequestId: ORG_REQUEST,
          requestId: ORG_REQUEST,
          email: 'dana@example.com',
          company: 'Example Corp',
          domain: 'example.com',
          documentIds: [DOC_SOC2, DOC_PENTEST],
          expiresAt: '2026-07-04T09:30:00.000Z',
          autoApproved: false,
        },
      ],
    },
  ),
  'access_grant.revoked': Type.Object(
    {
      grantId: Uuid('The grant.'),
      accessRequestId: NullableAccessRequestId,
      requestId: NullableDeprecatedRequestId,
      email: Email,
      company: Company,
      domain: Domain,
      revokedAt: DateTime('When it was revoked; its link stopped working at once.'),
    },
    {
      $id: 'AccessGrantRevokedEvent',
      description: 'A grant was revoked before its expiry; its link no longer opens the documents.',
      examples: [
        {
          grantId: GRANT,
          accessRequestId: ORG_REQUEST,
          requestId: ORG_REQUEST,
          email: 'dana@example.com',
          company: 'Example Corp',
          domain: 'example.com',
          revokedAt: '2026-06-12T16:05:00.000Z',
        },
      ],
    },
  ),
  'access_grant.expired': Type.Object(
    {
      grantId: Uuid('The grant.'),
      accessRequestId: NullableAccessRequestId,
      requestId: NullableDeprecatedRequestId,
      email: Email,
      company: Company,
      domain: Domain,
      expiredAt: DateTime('When it expired.'),
    },
    {
      $id: 'AccessGrantExpiredEvent',
      description: 'A grant reached its expiry date; its link no longer opens the documents.',
      examples: [
        {
          grantId: GRANT,
          accessRequestId: ORG_REQUEST,
          requestId: ORG_REQUEST,
          email: 'dana@example.com',
          company: 'Example Corp',
          domain: 'example.com',
          expiredAt: '2026-07-04T09:30:00.000Z',
        },
      ],
    },
  ),
  'document.downloaded': Type.Object(
    {
      documentId: Uuid('The document.'),
      title: Type.String(),
      version: Type.Integer({ minimum: 1 }),
      grantId: Type.Union([Uuid(), Type.Null()], { description: 'The grant it was downloaded through; null for a public document.' }),
      email: Type.Union([Type.String(), Type.Null()], { description: 'The grantee; null for a public document.' }),
      watermarked: Type.Boolean({ description: 'A PDF stamped with the grantee and time.' }),
    },
    {
      $id: 'DocumentDownloadedEvent',
      description: 'A trust-page document was downloaded.',
      examples: [{ documentId: DOC_SOC2, title: 'SOC 2 Type 2 report 2025', version: 2, grantId: GRANT, email: 'dana@example.com', watermarked: true }],
    },
  ),
  'trust.update_published': Type.Object(
    {
      updateId: Uuid('The update.'),
      title: Type.String(),
      category: Type.Enum(TRUST_UPDATE_CATEGORIES),
      audience: Type.Enum(TRUST_UPDATE_AUDIENCES, {
        description: 'public: on the trust page, its feed and to subscribers; grantees: to the holders of active grants only.',
      }),
      publishedAt: DateTime('When it was published.'),
      effectiveAt: Type.Union([DateTime('When the change takes effect.'), Type.Null()], {
        description: 'When the change takes effect (subprocessor notices); null otherwise.',
      }),
      notify: Type.Enum(['all', 'none'], { description: 'all: e-mailed to the audience; none: published without mail.' }),
      recipients: Type.Integer({ minimum: 0, description: 'How many messages were queued.' }),
    },
    {
      $id: 'TrustUpdatePublishedEvent',
      description: 'A trust-page update was published (and, with notify all, queued to its audience by e-mail).',
      examples: [
        {
          updateId: '0197a7d0-2e3f-7041-8b5c-6d7e8f9a0b1c',
          title: 'Changes to our subprocessors',
          category: 'subprocessor',
          audience: 'public',
          publishedAt: '2026-06-04T09:30:00.000Z',
          effectiveAt: '2026-07-04T09:30:00.000Z',
          notify: 'all',
          recipients: 42,
        },
      ],
    },
  ),
  'subscriber.confirmed': Type.Object(
    {
      subscriberId: Uuid('The subscriber.'),
      email: Type.String({ format: 'email', description: 'The address, lowercased.' }),
      topics: Type.Array(Type.Enum(TRUST_UPDATE_CATEGORIES), { description: 'The categories followed; empty: all of them.' }),
      confirmedAt: DateTime('When the address was confirmed (double opt-in).'),
    },
    {
      $id: 'SubscriberConfirmedEvent',
      description: 'Someone confirmed their subscription to the trust page through the link e-mailed to them.',
      examples: [{ subscriberId: '0197a7e0-3f40-7152-9c6d-7e8f9a0b1c2d', email: 'dana@example.com', topics: [], confirmedAt: '2026-06-04T09:35:00.000Z' }],
    },
  ),
  'subscriber.removed': Type.Object(
    {
      subscriberId: Uuid('The subscriber.'),
      email: Type.String({ format: 'email', description: 'The address, lowercased.' }),
      reason: Type.Enum(['unsubscribed', 'removed'], { description: 'unsubscribed: through the link in a message; removed: by the organization.' }),
      removedAt: DateTime('When.'),
    },
    {
      $id: 'SubscriberRemovedEvent',
      description: 'A confirmed subscriber unsubscribed or was removed by the organization; no further update reaches them.',
      examples: [
        { subscriberId: '0197a7e0-3f40-7152-9c6d-7e8f9a0b1c2d', email: 'dana@example.com', reason: 'unsubscribed', removedAt: '2026-06-20T08:00:00.000Z' },
      ],
    },
  ),
  'webhook.test': Type.Object(
    {
      endpointId: Uuid('The endpoint the test was sent to.'),
    },
    {
      $id: 'WebhookTestEvent',
      description: 'Sent by POST /api/v1/webhooks/{id}/test to that endpoint only.',
      examples: [{ endpointId: '0197a614-8394-75a6-9b1c-2d3e4f506172' }],
    },
  ),
} satisfies Record<EventType, TSchema>;

/** The `data` an event of this type carries. */
export type EventData<T extends EventType> = Static<(typeof EVENT_PAYLOADS)[T]>;

/** One event to emit: its type and the data of that type. */
export type EventInput = { [K in EventType]: { type: K; data: EventData<K> } }[EventType];
