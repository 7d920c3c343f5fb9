// E-mail to members about team work: an assignment to the assignee, a mention to the member named,
// a due-soon notice to the owner. Queued in the caller's transaction (the outbox sends after commit);
// nobody is mailed about their own action.
import type { Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { memberEmails, organizationSummaries } from '../identity/index.js';
import { escapeHtml, mailHtml, queueMails, type MailMessage } from '../mail/index.js';

interface Ctx {
  orgId: string;
  clock: Clock;
}

const day = (d: Date) => d.toISOString().slice(0, 10);
/** Enough of a question to recognise it in a list. */
const gist = (q: { ref: string | null; text: string }) => `${q.ref ? `${q.ref} ` : ''}${q.text.length > 140 ? `${q.text.slice(0, 139)}…` : q.text}`;
const LISTED = 10;

async function send(tx: Executor, ctx: Ctx, to: Map<string, string>, build: (org: string, email: string) => MailMessage) {
  if (to.size === 0) return;
  const org = (await organizationSummaries(tx, [ctx.orgId])).get(ctx.orgId)?.name ?? 'Your organization';
  await queueMails(
    tx,
    ctx,
    [...to.values()].map((email) => build(org, email)),
  );
}

function message(kind: MailMessage['kind'], to: string, subject: string, lines: string[]): MailMessage {
  return {
    kind,
    to,
    subject,
    text: lines.join('\n\n'),
    html: mailHtml(subject, lines.map((l) => `<p>${escapeHtml(l).replace(/\n/g, '<br>')}</p>`).join('\n')),
  };
}

/** Tells the assignee which questions are now theirs (not when they assigned them to themselves). */
export async function mailAssignment(
  tx: Executor,
  ctx: Ctx,
  a: { assigneeId: string; byMember: string | null; questionnaire: string; questions: { ref: string | null; text: string }[]; dueAt: Date | null },
) {
  if (a.assigneeId === a.byMember) return;
  const to = await memberEmails({ db: tx, orgId: ctx.orgId }, [a.assigneeId]);
  const n = a.questions.length;
  await send(tx, ctx, to, (org, email) =>
    message('assignment', email, `${org}: ${n} question${n === 1 ? '' : 's'} of "${a.questionnaire}" assigned to you`, [
      `${n} question${n === 1 ? ' was' : 's were'} assigned to you in "${a.questionnaire}"${a.dueAt ? `, due ${day(a.dueAt)}` : ''}.`,
      a.questions
        .slice(0, LISTED)
        .map((q) => `- ${gist(q)}`)
        .join('\n') + (n > LISTED ? `\n… and ${n - LISTED} more` : ''),
      'Your open work is listed by GET /api/v1/my-work.',
    ]),
  );
}

/** Tells each member a comment mentions (but its author) where, with the comment: members only read it. */
export async function mailMentions(
  tx: Executor,
  ctx: Ctx,
  c: { authorId: string; mentions: string[]; questionnaire: string; question: { ref: string | null; text: string }; body: string },
) {
  const to = await memberEmails(
    { db: tx, orgId: ctx.orgId },
    c.mentions.filter((m) => m !== c.authorId),
  );
  await send(tx, ctx, to, (org, email) =>
    message('mention', email, `${org}: you were mentioned on a question of "${c.questionnaire}"`, [
      `On "${gist(c.question)}":`,
      c.body,
      'Internal comment: it is never exported nor shown to the customer.',
    ]),
  );
}

/** Tells the owner a questionnaire not done is due soon. */
export async function mailDueSoon(tx: Executor, ctx: Ctx, q: { ownerId: string | null; name: string; dueAt: Date; openQuestions: number }) {
  if (!q.ownerId) return;
  const to = await memberEmails({ db: tx, orgId: ctx.orgId }, [q.ownerId]);
  await send(tx, ctx, to, (org, email) =>
    message('due_soon', email, `${org}: "${q.name}" is due ${day(q.dueAt)}`, [
      `"${q.name}", which you own, is due ${q.dueAt.toISOString().replace('T', ' ').slice(0, 16)} UTC and ${q.openQuestions} of its questions are not approved yet.`,
      'Your open work is listed by GET /api/v1/my-work.',
    ]),
  );
}
