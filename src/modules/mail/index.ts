// Outgoing e-mail: the mail outbox (messages queued in the caller's transaction), the worker that
// sends it through SMTP after commit with retries, and its admin listing.
export { escapeHtml, mailHtml, queueMail, queueMails, type MailMessage } from './service.js';
export { DEFAULT_MAIL_RETRY_SCHEDULE_MS, MailWorker } from './worker.js';
