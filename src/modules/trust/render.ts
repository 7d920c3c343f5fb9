import { createHash } from 'node:crypto';
import type { ResolvedGrant } from './access.js';
import { CONTROL_STATUS_LABELS, type PublicControl, type PublicDocument, type PublicTrust } from './service.js';

// Server-rendered HTML: every value from the database goes through esc() (or text(), which
// escapes first); no inline style, and no script except the prospect page's one, allowed by its
// hash (PROSPECT_CSP), so markup injection cannot run code.

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (c) => ESC[c]!);

export const longDate = (iso: string | null | undefined) =>
  iso ? new Date(iso).toLocaleDateString('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'long', year: 'numeric' }) : '';
const time = (iso: string | null | undefined) => (iso ? `<time datetime="${esc(iso)}">${esc(longDate(iso))}</time>` : '');

// A calendar day written the ISO way inside a sentence ("expired on 2026-06-30"), not part of a
// longer token such as a timestamp.
const ISO_DAY = /\b\d{4}-\d{2}-\d{2}\b(?![-:T\d])/g;
/**
 * Escaped text with each ISO day shown as people read it ("30 June 2026") in a <time> element,
 * so one page never mixes the two forms (certification reasons carry ISO days).
 */
export const text = (v: string | null | undefined): string =>
  esc(v).replace(ISO_DAY, (day) => {
    const d = new Date(`${day}T00:00:00Z`);
    return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== day ? day : time(day);
  });

const paragraphs = (t: string | null | undefined) =>
  (t ?? '')
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => `<p>${text(p).replace(/\n/g, '<br>')}</p>`)
    .join('\n');

function size(n: number) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

const kindOf = (contentType: string, fileName: string) => {
  if (/pdf/i.test(contentType) || /\.pdf$/i.test(fileName)) return 'PDF';
  const ext = /\.([a-z0-9]{1,5})$/i.exec(fileName)?.[1];
  return ext ? ext.toUpperCase() : 'File';
};

const CSP_BASE = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
  "font-src 'none'",
];
export const CSP = [...CSP_BASE, "script-src 'none'", "connect-src 'none'"].join('; ');

interface Shell {
  title: string;
  slug: string;
  orgName: string;
  logoUrl?: string | null;
  nav?: { href: string; label: string }[];
  description?: string;
  noindex?: boolean;
  body: string;
  footer?: string;
  /** Extra elements for <head>, and a script for the end of <body> (the page's CSP must allow it). */
  head?: string;
  script?: string;
}

function shell(s: Shell) {
  const nav =
    s.nav && s.nav.length > 0
      ? `<nav aria-label="On this page"><ul>${s.nav.map((n) => `<li><a href="${esc(n.href)}">${esc(n.label)}</a></li>`).join('')}</ul></nav>`
      : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(s.title)}</title>
${s.description ? `<meta name="description" content="${esc(s.description)}">` : ''}
${s.noindex ? '<meta name="robots" content="noindex, nofollow">' : ''}
<link rel="icon" href="/trust/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/trust/assets/trust.css">
<link rel="stylesheet" href="/trust/${esc(s.slug)}/theme.css">
<link rel="alternate" type="application/json" href="/trust/${esc(s.slug)}/trust.json" title="Machine-readable trust profile">
<link rel="alternate" type="application/atom+xml" href="/trust/${esc(s.slug)}/updates.atom" title="Updates (Atom feed)">
${s.head ?? ''}
</head>
<body>
<a class="skip" href="#main">Skip to main content</a>
<header class="site">
<div class="wrap bar">
<a class="brand" href="/trust/${esc(s.slug)}">${s.logoUrl ? `<img src="/trust/${esc(s.slug)}/logo" alt="" width="32" height="32">` : ''}<span>${esc(s.orgName)}</span><span class="sr-only"> trust center home</span></a>
${nav}
</div>
</header>
<main id="main" tabindex="-1">
<div class="wrap">
${s.body}
</div>
</main>
<footer class="site">
<div class="wrap">
${s.footer ?? ''}
</div>
</footer>
${s.script ? `<script>${s.script}</script>` : ''}
</body>
</html>
`;
}

function badge(status: string, label: string) {
  return `<span class="badge badge-${esc(status.replace(/_/g, '-'))}">${esc(label)}</span>`;
}

/** Anchors on the trust page that search results link to. */
const slugPart = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
export const anchors = {
  certification: (id: string) => `cert-${id}`,
  control: (c: Pick<PublicControl, 'framework' | 'ref'>) => `c-${slugPart(c.framework)}-${slugPart(c.ref)}`,
  faq: (i: number) => `faq-${i}`,
  subprocessor: (i: number) => `sp-${i}`,
  document: (id: string) => `doc-${id}`,
};

function certificationsSection(m: PublicTrust) {
  if (!m.sections.includes('certifications')) return '';
  const items = m.certifications
    .map(
      (c) => `
<li class="card" id="${anchors.certification(c.id)}">
<h3>${esc(c.name)}</h3>
<p>${badge(c.status, c.statusLabel)} <span class="muted">${esc(c.kindLabel)}</span></p>
<dl class="facts">
${c.issuer ? `<div><dt>Issued by</dt><dd>${esc(c.issuer)}</dd></div>` : ''}
${c.kind === 'soc2_type2' && c.periodStart && c.periodEnd ? `<div><dt>Period</dt><dd>${time(c.periodStart)} to ${time(c.periodEnd)}</dd></div>` : ''}
${c.kind !== 'soc2_type2' && c.issuedAt ? `<div><dt>Issued</dt><dd>${time(c.issuedAt)}</dd></div>` : ''}
${c.kind === 'soc2_type2' && c.issuedAt ? `<div><dt>Report date</dt><dd>${time(c.issuedAt)}</dd></div>` : ''}
${c.expiresAt ? `<div><dt>Valid until</dt><dd>${time(c.expiresAt)}</dd></div>` : ''}
${c.includesIso27017 ? '<div><dt>Includes</dt><dd>ISO/IEC 27017 cloud controls</dd></div>' : ''}
</dl>
<p class="reason">${text(c.statusReason)}</p>
${c.scope ? `<details><summary>Scope</summary><p>${text(c.scope)}</p></details>` : ''}
</li>`,
    )
    .join('');
  return `
<section id="certifications" aria-labelledby="h-certifications">
<h2 id="h-certifications">Certifications and reports</h2>
${m.certifications.length > 0 ? `<ul class="cards">${items}</ul>` : '<p>No certification is published yet.</p>'}
</section>`;
}

/** "3 implemented, 1 planned": the published controls by status, in the order of the labels. */
function statusCounts(controls: PublicControl[]) {
  const counts = new Map<string, number>();
  for (const c of controls) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  return Object.keys(CONTROL_STATUS_LABELS)
    .filter((s) => counts.has(s))
    .map((s) => `${counts.get(s)} ${CONTROL_STATUS_LABELS[s]!.toLowerCase()}`)
    .join(', ');
}

/**
 * The published controls. Frameworks backed by a certificate or report are shown once, in
 * "Certifications and reports"; this section names only the ones we assess ourselves.
 */
function securitySection(m: PublicTrust) {
  if (!m.security) return '';
  const controls = m.security.domains.flatMap((d) => d.controls);
  const inScope = m.security.frameworks.filter((f) => f.inScope);
  const attested = inScope.filter((f) => f.attested);
  const selfAssessed = inScope.filter((f) => !f.attested);
  const certLink =
    m.sections.includes('certifications') && m.certifications.length > 0 ? ' (see <a href="#certifications">Certifications and reports</a>)' : '';
  const frameworks = [
    attested.length > 0 ? `<p>Independently attested: ${attested.map((f) => esc(f.name)).join(', ')}${certLink}.</p>` : '',
    selfAssessed.length > 0
      ? `<ul class="plain">${selfAssessed.map((f) => `<li><strong>${esc(f.name)}</strong>, self-assessed: ${text(f.note)}</li>`).join('')}</ul>`
      : '',
  ].join('\n');
  const domains = m.security.domains
    .map(
      (d) => `
<section class="domain" aria-labelledby="h-domain-${esc(d.id)}">
<h3 id="h-domain-${esc(d.id)}">${esc(d.name)} <span class="count">(${d.controls.length})</span></h3>
<details>
<summary>Show the ${d.controls.length} controls</summary>
<ul class="controls">
${d.controls.map((c) => `<li id="${esc(anchors.control(c))}"><p><span class="ref">${esc(c.ref)}</span> <strong>${esc(c.title)}</strong> ${badge(c.status, c.statusLabel)}</p>${c.summary ? `<p>${text(c.summary)}</p>` : ''}</li>`).join('\n')}
</ul>
</details>
</section>`,
    )
    .join('');
  return `
<section id="security" aria-labelledby="h-security">
<h2 id="h-security">Security controls</h2>
${controls.length > 0 ? `<p>${controls.length} ${controls.length === 1 ? 'control is' : 'controls are'} published here, each with a summary of how we meet it: ${statusCounts(controls)}.</p>` : ''}
${frameworks}
${domains || '<p>No control summary is published yet.</p>'}
</section>`;
}

/**
 * A table that may be wider than a phone: a labelled, focusable region (keyboard users scroll it
 * with the arrow keys), with shadows at the edges that hide more columns and a hint while it
 * can scroll (trust.css).
 */
function scrollTable(captionId: string, table: string) {
  return `<div class="scroll" role="region" aria-labelledby="${captionId}" tabindex="0">
<p class="scroll-hint" aria-hidden="true">Scroll sideways to see the whole table →</p>
${table}
</div>`;
}

function soc2Section(m: PublicTrust) {
  if (!m.soc2) return '';
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return `
<section id="soc2" aria-labelledby="h-soc2">
<h2 id="h-soc2">SOC 2 coverage</h2>
<p>Our ISO/IEC 27001 controls cover the SOC 2 Trust Services Criteria as follows: ${m.soc2.covered} of ${m.soc2.criteria} criteria fully, ${m.soc2.partial} partly; overall coverage ${pct(m.soc2.overall)}.</p>
${scrollTable(
  'cap-soc2',
  `<table>
<caption id="cap-soc2">Coverage by criteria group</caption>
<thead><tr><th scope="col">Group</th><th scope="col">Criteria</th><th scope="col">Coverage</th></tr></thead>
<tbody>
${m.soc2.groups.map((g) => `<tr><th scope="row">${esc(g.group)} ${esc(g.name)}</th><td>${g.criteria}</td><td class="nowrap"><meter min="0" max="1" value="${g.coverage}" aria-hidden="true"></meter> ${pct(g.coverage)}</td></tr>`).join('\n')}
</tbody>
</table>`,
)}
</section>`;
}

function subprocessorsSection(m: PublicTrust) {
  if (!m.sections.includes('subprocessors')) return '';
  if (m.subprocessors.length === 0) {
    return '<section id="subprocessors" aria-labelledby="h-subprocessors"><h2 id="h-subprocessors">Subprocessors</h2><p>No subprocessor is listed.</p></section>';
  }
  return `
<section id="subprocessors" aria-labelledby="h-subprocessors">
<h2 id="h-subprocessors">Subprocessors</h2>
${scrollTable(
  'cap-subprocessors',
  `<table class="stack">
<caption id="cap-subprocessors">Third parties that process customer data for us</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Purpose</th><th scope="col">Location</th></tr></thead>
<tbody>
${m.subprocessors.map((s, i) => `<tr id="${anchors.subprocessor(i)}"><th scope="row">${s.url ? `<a href="${esc(s.url)}" rel="noopener noreferrer">${esc(s.name)}</a>` : esc(s.name)}</th><td>${text(s.purpose)}</td><td>${esc(s.location)}</td></tr>`).join('\n')}
</tbody>
</table>`,
)}
</section>`;
}

// ----- the request-access form -------------------------------------------------------------------

export interface FormState {
  values: Record<string, string | string[] | undefined>;
  /** Field names as the form posts them (name, email, ...); a path such as documentIds/0 counts as its field. */
  errors: { field: string; message: string }[];
}

/** The form's fields in page order: the error summary lists problems in this order. */
export const ACCESS_FIELDS = ['name', 'email', 'company', 'reason', 'documentIds', 'ndaAccepted'] as const;
const FIELD_LABELS: Record<string, string> = {
  name: 'Name',
  email: 'Work email',
  company: 'Company',
  reason: 'Why you need the documents',
  ndaAccepted: 'NDA acceptance',
  documentIds: 'Documents',
};
const LIMITS = { name: 200, email: 254, company: 200, reason: 2000 } as const;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** What to tell the person about a field the server refused, in the page's words. */
export const ACCESS_FIELD_MESSAGES: Record<string, string> = {
  name: 'Enter your name.',
  email: 'Enter your work email address in the form name@company.com.',
  company: 'Enter the name of your company.',
  reason: `Shorten the reason to ${LIMITS.reason.toLocaleString('en-GB')} characters or fewer.`,
  documentIds: 'One of the documents you ticked is no longer offered. Tick the documents you need again.',
  ndaAccepted: 'Tick the box to accept the non-disclosure terms.',
};

const fieldOf = (f: string) => f.replace(/^body\//, '').split('/')[0]!;

/** The form's own checks, before anything is recorded: one full sentence per field at most. */
export function checkAccessForm(v: { name: string; email: string; company: string; reason: string | null; ndaAccepted: boolean }): FormState['errors'] {
  const errors: FormState['errors'] = [];
  const long = (f: keyof typeof LIMITS, label: string) => `${label} must be ${LIMITS[f]} characters or fewer.`;
  const name = v.name.trim();
  const email = v.email.trim();
  const company = v.company.trim();
  if (!name) errors.push({ field: 'name', message: ACCESS_FIELD_MESSAGES.name! });
  else if (name.length > LIMITS.name) errors.push({ field: 'name', message: long('name', 'Your name') });
  if (!email) errors.push({ field: 'email', message: 'Enter your work email address.' });
  else if (email.length > LIMITS.email) errors.push({ field: 'email', message: long('email', 'The email address') });
  else if (!EMAIL.test(email)) errors.push({ field: 'email', message: ACCESS_FIELD_MESSAGES.email! });
  if (!company) errors.push({ field: 'company', message: ACCESS_FIELD_MESSAGES.company! });
  else if (company.length > LIMITS.company) errors.push({ field: 'company', message: long('company', 'The company name') });
  if ((v.reason?.length ?? 0) > LIMITS.reason) errors.push({ field: 'reason', message: ACCESS_FIELD_MESSAGES.reason! });
  if (!v.ndaAccepted) errors.push({ field: 'ndaAccepted', message: ACCESS_FIELD_MESSAGES.ndaAccepted! });
  return errors;
}

/** Problems the service found (API field paths, API wording) as the form's fields and sentences. */
export function formErrorsOf(errors: { field: string; message: string }[]): FormState['errors'] {
  const fields = [...new Set(errors.map((e) => fieldOf(e.field)))];
  return fields.map((field) => ({
    field,
    message: ACCESS_FIELD_MESSAGES[field] ?? `Check “${FIELD_LABELS[field] ?? 'this answer'}” and send the request again.`,
  }));
}

function formView(m: PublicTrust, state: FormState) {
  const order = (f: string) => {
    const i = (ACCESS_FIELDS as readonly string[]).indexOf(f);
    return i === -1 ? ACCESS_FIELDS.length : i;
  };
  // One problem per field, in the order the fields appear on the page.
  const errors = [...new Map(state.errors.map((e) => [fieldOf(e.field), { field: fieldOf(e.field), message: e.message }] as const)).values()].sort(
    (a, b) => order(a.field) - order(b.field),
  );
  const nda = m.documents.filter((d) => d.visibility === 'nda');
  // Where a summary link takes focus: the field itself, or the first box of a group.
  const target = (f: string) =>
    f === 'documentIds' ? (nda.length > 1 ? 'f-doc-0' : null) : (ACCESS_FIELDS as readonly string[]).includes(f) ? `f-${f}` : null;
  return { errors, nda, target, errorOf: (f: string) => errors.find((e) => e.field === f) };
}

/** The error summary: first in the main content, focused on load (no script needed), links to each field. */
function errorSummary(m: PublicTrust, state: FormState) {
  const { errors, target } = formView(m, state);
  if (errors.length === 0) return '';
  return `
<div class="error-summary" id="form-errors" role="alert" tabindex="-1" autofocus aria-labelledby="form-errors-title">
<h2 id="form-errors-title">${errors.length === 1 ? 'There is a problem with your request' : `There are ${errors.length} problems with your request`}</h2>
<ul>${errors
    .map((e) => {
      const id = target(e.field);
      return `<li>${id ? `<a href="#${id}">${esc(e.message)}</a>` : esc(e.message)}</li>`;
    })
    .join('')}</ul>
</div>`;
}

/** The form itself, with each field's problem between its label and its control. */
function accessFormFields(m: PublicTrust, state: FormState) {
  if (!m.access) return '';
  const { nda, errorOf } = formView(m, state);
  const v = (f: string) => {
    const x = state.values[f];
    return Array.isArray(x) ? (x[0] ?? '') : (x ?? '');
  };
  const message = (f: string) => {
    const e = errorOf(f);
    return e ? `<p class="error" id="e-${f}"><span class="sr-only">Error: </span>${esc(e.message)}</p>` : '';
  };
  const invalid = (f: string) => (errorOf(f) ? ` aria-invalid="true" aria-describedby="e-${f}"` : '');
  const input = (name: keyof typeof LIMITS, type: string, autocomplete: string) => `<div class="field">
<label for="f-${name}">${esc(FIELD_LABELS[name])}</label>
${message(name)}
<input id="f-${name}" name="${name}" type="${type}" autocomplete="${autocomplete}" maxlength="${LIMITS[name]}" value="${esc(v(name))}" required${invalid(name)}>
</div>`;
  const chosen = new Set(([] as string[]).concat(state.values.documentIds ?? []));
  const docsError = errorOf('documentIds');
  return `<form method="post" action="/trust/${esc(m.organization.slug)}/request-access">
${input('name', 'text', 'name')}
${input('email', 'email', 'email')}
${input('company', 'text', 'organization')}
<div class="field">
<label for="f-reason">${FIELD_LABELS.reason} <span class="muted">(optional)</span></label>
${message('reason')}
<textarea id="f-reason" name="reason" rows="3" maxlength="${LIMITS.reason}"${invalid('reason')}>${esc(v('reason'))}</textarea>
</div>
${
  nda.length > 1
    ? `<fieldset class="field" aria-describedby="docs-hint${docsError ? ' e-documentIds' : ''}">
<legend>Documents you need <span class="muted">(optional)</span></legend>
<p class="hint" id="docs-hint">Tick the documents you need; leave all unticked to ask for all of them.</p>
${message('documentIds')}
${nda.map((d, i) => `<div class="check"><input type="checkbox" id="f-doc-${i}" name="documentIds" value="${esc(d.id)}"${chosen.has(d.id) ? ' checked' : ''}><label for="f-doc-${i}">${esc(d.title)}</label></div>`).join('\n')}
</fieldset>`
    : ''
}
<details class="nda">
<summary>Read the non-disclosure terms</summary>
${paragraphs(m.access.ndaText)}
<p class="muted">Version ${esc(m.access.ndaVersion.slice(0, 19))}</p>
</details>
<input type="hidden" name="ndaVersion" value="${esc(m.access.ndaVersion)}">
<div class="check field">
<input type="checkbox" id="f-ndaAccepted" name="ndaAccepted" value="true" required${v('ndaAccepted') === 'true' ? ' checked' : ''}${invalid('ndaAccepted')}>
<label for="f-ndaAccepted">I accept the non-disclosure terms for myself and the company I named</label>
${message('ndaAccepted')}
</div>
<button type="submit">Request access</button>
</form>`;
}

const FORM_INTRO =
  'Tell us who you are and accept the non-disclosure terms. Every field is required unless marked optional. We review each request; approved access comes as a personal link that expires.';

/** The form as a section of the trust page. */
export function accessForm(m: PublicTrust) {
  if (!m.access) return '';
  return `
<section id="request-access" aria-labelledby="h-request">
<h2 id="h-request">Request access to NDA documents</h2>
<p>${FORM_INTRO}</p>
${accessFormFields(m, { values: {}, errors: [] })}
</section>`;
}

/**
 * The form again after a refused submit: a page of its own whose main content starts with the
 * error summary, which takes focus, and whose title starts with "Error:".
 */
export function renderAccessFormPage(m: PublicTrust, state: FormState) {
  const slug = esc(m.organization.slug);
  const body = `${errorSummary(m, state)}
<section class="hero" aria-labelledby="page-title">
<p class="eyebrow">${esc(m.organization.name)} trust center</p>
<h1 id="page-title">Request access to NDA documents</h1>
<p>${FORM_INTRO}</p>
</section>
${m.access ? accessFormFields(m, state) : '<p>This trust center has no documents under NDA at the moment.</p>'}
<p><a href="/trust/${slug}#documents">Back to the trust center</a></p>`;
  return shell({
    title: `${state.errors.length > 0 ? 'Error: ' : ''}Request access to NDA documents: ${m.organization.name} trust center`,
    slug: m.organization.slug,
    orgName: m.organization.name,
    logoUrl: m.branding.logoUrl,
    body,
    footer: footer(m),
    noindex: true,
  });
}

// ----- documents, facts, FAQ, the page -------------------------------------------------------------

function documentItem(d: PublicDocument, slug: string) {
  if (d.visibility === 'public') {
    return `<li class="doc" id="${anchors.document(d.id)}"><a href="/trust/${esc(slug)}/documents/${esc(d.id)}" download>${esc(d.title)}</a> <span class="muted">(${esc(kindOf(d.contentType, d.fileName))}, ${esc(size(d.size))})</span>${d.description ? `<p>${text(d.description)}</p>` : ''}<p class="muted">Last updated ${time(d.updatedAt)}</p></li>`;
  }
  return `<li class="doc" id="${anchors.document(d.id)}"><span>${esc(d.title)}</span> ${badge('nda', 'Under NDA')}</li>`;
}

function documentsSection(m: PublicTrust) {
  if (!m.sections.includes('documents')) return '';
  const list = m.documents.map((d) => documentItem(d, m.organization.slug)).join('\n');
  return `
<section id="documents" aria-labelledby="h-documents">
<h2 id="h-documents">Documents</h2>
${m.documents.length > 0 ? `<ul class="docs">${list}</ul>` : '<p>No document is published yet.</p>'}
${m.access ? '<p><a href="#request-access">Request access to the documents under NDA</a></p>' : ''}
</section>
${accessForm(m)}`;
}

function factsSection(m: PublicTrust) {
  if (m.facts.length === 0) return '';
  const unit = (f: PublicTrust['facts'][number]) => (!f.unit || f.type !== 'number' ? '' : f.unit === 'percent' ? '%' : ` ${esc(f.unit)}`);
  const value = (f: PublicTrust['facts'][number]) => `${text(f.display)}${unit(f)}`;
  return `
<section id="facts" aria-labelledby="h-facts">
<h2 id="h-facts">Company facts</h2>
<div class="card">
<dl class="facts">
${m.facts.map((f) => `<div><dt>${esc(f.label)}</dt><dd>${value(f)}</dd></div>`).join('\n')}
</dl>
</div>
</section>`;
}

function faqSection(m: PublicTrust) {
  if (!m.sections.includes('faq') || m.faq.length === 0) return '';
  return `
<section id="faq" aria-labelledby="h-faq">
<h2 id="h-faq">Frequently asked questions</h2>
${m.faq.map((f, i) => `<div class="faq"><h3 id="${anchors.faq(i)}">${esc(f.question)}</h3>${paragraphs(f.answer)}</div>`).join('\n')}
</section>`;
}

function footer(m: PublicTrust) {
  const slug = esc(m.organization.slug);
  const contact = [
    m.contact.email ? `<a href="mailto:${esc(m.contact.email)}">${esc(m.contact.email)}</a>` : '',
    m.contact.url ? `<a href="${esc(m.contact.url)}" rel="noopener noreferrer">${esc(m.contact.url)}</a>` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  return `${contact ? `<p>Security contact: ${contact}</p>` : ''}
<p>Last updated ${time(m.updatedAt)}. Machine-readable: <a href="/trust/${slug}/trust.json">trust profile (JSON)</a> · <a href="/trust/${slug}/llms.txt">llms.txt</a></p>`;
}

/** The search box: a plain GET form, so it works without scripts. */
function searchForm(m: PublicTrust, q = '') {
  return `<form class="search" role="search" method="get" action="/trust/${esc(m.organization.slug)}/search" aria-label="Search this trust center">
<label for="q">Search controls, FAQ, subprocessors and documents</label>
<div class="search-row"><input id="q" name="q" type="search" maxlength="${SEARCH_MAX_LENGTH}" value="${esc(q)}" autocomplete="off"><button type="submit">Search</button></div>
</form>`;
}

function pageNav(m: PublicTrust, prefix = '') {
  return [
    m.sections.includes('certifications') && { href: `${prefix}#certifications`, label: 'Certifications' },
    m.facts.length > 0 && { href: `${prefix}#facts`, label: 'Company facts' },
    m.security && { href: `${prefix}#security`, label: 'Controls' },
    m.soc2 && { href: `${prefix}#soc2`, label: 'SOC 2' },
    m.sections.includes('subprocessors') && { href: `${prefix}#subprocessors`, label: 'Subprocessors' },
    m.sections.includes('documents') && { href: `${prefix}#documents`, label: 'Documents' },
    m.sections.includes('faq') && m.faq.length > 0 && { href: `${prefix}#faq`, label: 'FAQ' },
    { href: `${prefix}#updates`, label: 'Updates' },
  ].filter((x): x is { href: string; label: string } => Boolean(x));
}

export function renderTrustPage(m: PublicTrust) {
  const body = `
<section class="hero" aria-labelledby="page-title">
<p class="eyebrow">${esc(m.organization.name)} trust center</p>
<h1 id="page-title">${esc(m.headline)}</h1>
${paragraphs(m.overview)}
<p class="updated">Last updated ${time(m.updatedAt)}</p>
${searchForm(m)}
</section>
${certificationsSection(m)}
${factsSection(m)}
${securitySection(m)}
${soc2Section(m)}
${subprocessorsSection(m)}
${documentsSection(m)}
${faqSection(m)}
${updatesSection(m)}`;
  return shell({
    title: `${m.organization.name} trust center`,
    slug: m.organization.slug,
    orgName: m.organization.name,
    logoUrl: m.branding.logoUrl,
    nav: pageNav(m),
    description: m.headline,
    body,
    footer: footer(m),
  });
}

// ----- search ----------------------------------------------------------------------------------

/** Longest query the search takes, in characters; longer ones are cut, not refused. */
export const SEARCH_MAX_LENGTH = 200;
const MAX_TERMS = 8;

/** Lower case without accents, so "Zurich" finds "Zürich". */
const fold = (s: string) => s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();

/** The query's words (at most MAX_TERMS, duplicates dropped), folded. */
export function searchTerms(q: string): string[] {
  return [
    ...new Set(
      fold(q.slice(0, SEARCH_MAX_LENGTH))
        .split(/[^\p{L}\p{N}]+/u)
        .filter(Boolean),
    ),
  ].slice(0, MAX_TERMS);
}

interface Hit {
  href: string;
  title: string;
  detail: string;
  meta?: string;
}
interface Group {
  id: string;
  label: string;
  hits: Hit[];
}

/**
 * What the public page shows, and nothing else, matched against the words: an item is a hit when
 * every word occurs in its text. Groups and items keep the page's order.
 */
export function searchTrust(m: PublicTrust, terms: string[]): Group[] {
  if (terms.length === 0) return [];
  const page = `/trust/${m.organization.slug}`;
  const matches = (...parts: Array<string | null | undefined>) => {
    const t = fold(parts.filter(Boolean).join(' '));
    return terms.every((w) => t.includes(w));
  };
  const groups: Group[] = [
    {
      id: 'certifications',
      label: 'Certifications and reports',
      hits: m.certifications
        .filter((c) => matches(c.name, c.kindLabel, c.issuer, c.scope))
        .map((c) => ({ href: `${page}#${anchors.certification(c.id)}`, title: c.name, detail: c.statusReason, meta: c.kindLabel })),
    },
    {
      id: 'controls',
      label: 'Controls',
      hits: (m.security?.domains ?? [])
        .flatMap((d) => d.controls.map((c) => ({ c, d })))
        .filter(({ c, d }) => matches(c.ref, c.title, c.summary, d.name))
        .map(({ c, d }) => ({
          href: `${page}#${anchors.control(c)}`,
          title: `${c.ref} ${c.title}`,
          detail: c.summary ?? '',
          meta: `${d.name} · ${c.statusLabel}`,
        })),
    },
    {
      id: 'faq',
      label: 'Frequently asked questions',
      hits: m.faq
        .map((f, i) => ({ f, i }))
        .filter(({ f }) => matches(f.question, f.answer))
        .map(({ f, i }) => ({ href: `${page}#${anchors.faq(i)}`, title: f.question ?? '', detail: f.answer ?? '' })),
    },
    {
      id: 'subprocessors',
      label: 'Subprocessors',
      hits: m.subprocessors
        .map((s, i) => ({ s, i }))
        .filter(({ s }) => matches(s.name, s.purpose, s.location))
        .map(({ s, i }) => ({ href: `${page}#${anchors.subprocessor(i)}`, title: s.name, detail: s.purpose, meta: s.location })),
    },
    {
      id: 'documents',
      label: 'Documents',
      hits: m.documents
        .filter((d) => matches(d.title, d.visibility === 'public' ? d.description : null))
        .map((d) => ({
          href: `${page}#${anchors.document(d.id)}`,
          title: d.title,
          detail: d.visibility === 'public' ? (d.description ?? '') : '',
          meta: d.visibility === 'public' ? 'Public download' : 'Under NDA',
        })),
    },
  ];
  return groups.filter((g) => g.hits.length > 0);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Escaped text with the query's words marked (case-insensitive; accented forms are found but not marked). */
function highlight(t: string, terms: string[]) {
  if (!t) return '';
  const re = new RegExp(terms.map(escapeRegExp).join('|'), 'giu');
  let out = '';
  let last = 0;
  for (const m of t.matchAll(re)) {
    if (m[0].length === 0) continue;
    out += text(t.slice(last, m.index)) + `<mark>${esc(m[0])}</mark>`;
    last = m.index + m[0].length;
  }
  return out + text(t.slice(last));
}

/** At most ~240 characters of a long text, around the first word found. */
function excerpt(t: string, terms: string[]) {
  if (t.length <= 240) return t;
  const found = terms.map((w) => fold(t).indexOf(w)).filter((i) => i >= 0);
  const at = found.length > 0 ? Math.min(...found) : 0;
  const start = Math.max(0, at - 80);
  return `${start > 0 ? '… ' : ''}${t.slice(start, start + 240).trim()} …`;
}

export function renderSearchPage(m: PublicTrust, q: string) {
  const query = q.slice(0, SEARCH_MAX_LENGTH).trim();
  const terms = searchTerms(query);
  const groups = searchTrust(m, terms);
  const total = groups.reduce((n, g) => n + g.hits.length, 0);
  const said = `“${esc(query)}”`;
  const summary =
    terms.length === 0
      ? '<p>Type one or more words to search the controls, FAQ, subprocessors and documents on this trust center.</p>'
      : total === 0
        ? `<p>No results for ${said}. Try fewer words, or other ones.</p>`
        : `<p>${total} ${total === 1 ? 'result' : 'results'} for ${said}${groups.length > 1 ? `: ${groups.map((g) => `<a href="#r-${g.id}">${esc(g.label)} (${g.hits.length})</a>`).join(', ')}` : ''}.</p>`;
  const results = groups
    .map(
      (g) => `
<section id="r-${g.id}" aria-labelledby="h-r-${g.id}">
<h2 id="h-r-${g.id}">${esc(g.label)} <span class="count">(${g.hits.length})</span></h2>
<ul class="results">
${g.hits.map((h) => `<li><a href="${esc(h.href)}">${highlight(h.title, terms)}</a>${h.meta ? ` <span class="muted">${esc(h.meta)}</span>` : ''}${h.detail ? `<p>${highlight(excerpt(h.detail, terms), terms)}</p>` : ''}</li>`).join('\n')}
</ul>
</section>`,
    )
    .join('');
  const body = `
<section class="hero" aria-labelledby="page-title">
<p class="eyebrow">${esc(m.organization.name)} trust center</p>
<h1 id="page-title">Search</h1>
${searchForm(m, query)}
${summary}
</section>
${results}
<p><a href="/trust/${esc(m.organization.slug)}">Back to the trust center</a></p>`;
  return shell({
    title: `${terms.length > 0 ? `Search results for “${query}”` : 'Search'}: ${m.organization.name} trust center`,
    slug: m.organization.slug,
    orgName: m.organization.name,
    logoUrl: m.branding.logoUrl,
    nav: pageNav(m, `/trust/${m.organization.slug}`),
    body,
    footer: footer(m),
    noindex: true,
  });
}

export function renderRequestReceived(m: PublicTrust, outcome: { status: string }) {
  const body = `
<section class="hero" aria-labelledby="page-title">
<h1 id="page-title">Request received</h1>
<p role="status">Thank you: your request for access has been recorded with the NDA you accepted.</p>
<p>${
    outcome.status === 'approved'
      ? 'Your request is approved. A personal link to the documents will be sent to the email address you gave.'
      : `${esc(m.organization.name)} reviews requests and will send a personal link to the email address you gave once it is approved.`
  }</p>
<p><a href="/trust/${esc(m.organization.slug)}">Back to the trust center</a></p>
</section>`;
  return shell({
    title: `Request received: ${m.organization.name}`,
    slug: m.organization.slug,
    orgName: m.organization.name,
    logoUrl: m.branding.logoUrl,
    body,
    footer: footer(m),
    noindex: true,
  });
}

export function renderGrantPage(g: ResolvedGrant, token: string, hasLogo: boolean) {
  const slug = esc(g.org.slug);
  const items = g.documents
    .map(
      (d) => `
<li class="doc"><a href="/trust/${slug}/access/${esc(token)}/documents/${esc(d.id)}" download>${esc(d.title)}</a> <span class="muted">(${esc(kindOf(d.contentType, d.fileName))}, ${esc(size(d.size))})</span>${d.description ? `<p>${text(d.description)}</p>` : ''}</li>`,
    )
    .join('');
  const body = `
<section class="hero" aria-labelledby="page-title">
<p class="eyebrow">${esc(g.org.name)} trust center</p>
<h1 id="page-title">Documents shared with you</h1>
<p>Access for <strong>${esc(g.grant.email)}</strong> until ${time(g.grant.expiresAt.toISOString())}. This link is personal: do not forward it. PDF copies are marked with your email address and the time of download, and each download is recorded.</p>
</section>
<section aria-labelledby="h-granted">
<h2 id="h-granted">Documents</h2>
${g.documents.length > 0 ? `<ul class="docs">${items}</ul>` : '<p>No document is available under this grant any more.</p>'}
</section>
<section aria-labelledby="h-questionnaire">
<h2 id="h-questionnaire">Send us your security questionnaire</h2>
<p>We answer it from our published security information; answers that need a person's review show as awaiting review until we have checked them.</p>
<form method="post" action="/trust/${slug}/access/${esc(token)}/questionnaires" enctype="multipart/form-data">
<label for="questionnaire-file">Questionnaire file (XLSX, CSV or JSON)</label>
<input id="questionnaire-file" name="file" type="file" accept=".xlsx,.csv,.json" required>
<button type="submit">Upload questionnaire</button>
</form>
</section>`;
  return shell({ title: `Shared documents: ${g.org.name}`, slug: g.org.slug, orgName: g.org.name, logoUrl: hasLogo ? 'logo' : null, body, noindex: true });
}

export interface ProspectQuestionnaireView {
  id: string;
  name: string;
  status: string;
  released: boolean;
  progress: { done: number; total: number };
  counts?: { released: number; awaitingReview: number; beingPrepared: number };
  questions: Array<{
    ref: string | null;
    text: string;
    pending: boolean;
    state?: 'being_prepared' | 'released' | 'awaiting_review';
    answer: { choice: string | null; text: string | null; releasedBy?: string } | null;
  }>;
}

/** Where a released answer comes from, said plainly: a draft never passes for a reviewed answer. */
const RELEASED_NOTE: Record<string, string> = {
  review: 'Reviewed by our security team.',
  public_profile: 'From our published company facts.',
  approved_library: 'An answer our security team approved earlier.',
  confident_draft: 'Prepared from our published information; not yet reviewed by a person.',
  questionnaire_condition: 'Not asked: your questionnaire skips it given the other answers.',
};

/** A question's answer, or why there is none yet. */
function prospectAnswer(q: ProspectQuestionnaireView['questions'][number]) {
  if (!q.answer) return `<p class="muted">${q.state === 'being_prepared' ? 'Being prepared.' : 'Awaiting review by our security team.'}</p>`;
  const note = q.answer.releasedBy ? RELEASED_NOTE[q.answer.releasedBy] : undefined;
  return `<p>${q.answer.choice ? `<span class="badge">${esc(q.answer.choice)}</span> ` : ''}${text(q.answer.text ?? '')}</p>${note ? `\n<p class="muted">${note}</p>` : ''}`;
}

/** Whether the questionnaire is still being answered (the page follows its progress). */
export const isAnswering = (status: string) => status === 'queued' || status === 'filling' || status === 'imported';

/** The progress as one sentence: the same words on the page and in its live updates. */
export function progressMessage(p: { status: string; done: number; total: number }) {
  if (isAnswering(p.status)) return `Answering: ${p.done} of ${p.total} questions so far.`;
  return p.status === 'failed'
    ? 'Answering stopped before the end; our security team will finish it. Select “Show the answers” to read what is ready.'
    : `Answering has finished for all ${p.total} questions. Select “Show the answers” to read them.`;
}

// Polls the progress route while the questionnaire is being answered and writes the sentence into
// the polite live region (screen readers announce each change, nothing reloads); when answering
// ends, the refresh link becomes "Show the answers". Without scripts the link and a <noscript>
// refresh do the same job. Static text: the CSP allows exactly this script by its hash.
const PROGRESS_SCRIPT = `(() => {
  const live = document.getElementById('progress');
  const link = document.getElementById('refresh');
  const url = live && live.dataset.progressUrl;
  if (!url || !link || !window.fetch) return;
  let wait = 3000;
  const poll = () => fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' })
    .then((r) => { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
    .then((p) => {
      wait = 3000;
      if (live.textContent !== p.message) live.textContent = p.message;
      if (p.answering) setTimeout(poll, wait);
      else link.textContent = 'Show the answers';
    }, () => { wait = Math.min(wait * 2, 60000); setTimeout(poll, wait); });
  setTimeout(poll, wait);
})();`;

/** The prospect questionnaire page's policy: the page's own one plus its progress script and the fetch it makes. */
export const PROSPECT_CSP = [...CSP_BASE, `script-src 'sha256-${createHash('sha256').update(PROGRESS_SCRIPT).digest('base64')}'`, "connect-src 'self'"].join(
  '; ',
);

/** The prospect's questionnaire as a page: while it is answered, a live region follows the progress. */
export function renderProspectQuestionnaire(g: ResolvedGrant, token: string, v: ProspectQuestionnaireView, hasLogo: boolean) {
  const base = `/trust/${esc(g.org.slug)}/access/${esc(token)}`;
  const self = `${base}/questionnaires/${esc(v.id)}`;
  const working = isAnswering(v.status);
  const answered = v.counts?.released ?? v.questions.filter((q) => !q.pending).length;
  const awaiting = v.counts?.awaitingReview ?? v.questions.filter((q) => q.pending).length;
  const rows = v.questions
    .map(
      (q) => `
<li class="doc"><p><strong>${q.ref ? `${esc(q.ref)}: ` : ''}${esc(q.text)}</strong></p>
${prospectAnswer(q)}</li>`,
    )
    .join('');
  const progress = working
    ? `<p id="progress" role="status" aria-live="polite" data-progress-url="${self}/progress">${esc(progressMessage({ status: v.status, ...v.progress }))}</p>
<p><a id="refresh" href="${self}">Refresh progress</a></p>`
    : `<p>${answered} answered, ${awaiting} awaiting review.</p>`;
  const body = `
<section class="hero" aria-labelledby="page-title">
<p class="eyebrow">${esc(g.org.name)} trust center</p>
<h1 id="page-title">${esc(v.name)}</h1>
${progress}
${v.released ? `<p><a href="${self}/export?format=xlsx" download>Download the answered file</a></p>` : '<p class="muted">The answered file can be downloaded once our team has reviewed it.</p>'}
</section>
<section aria-labelledby="h-answers">
<h2 id="h-answers">Answers</h2>
<ol class="docs">${rows}</ol>
</section>
<p><a href="${base}">Back to the shared documents</a></p>`;
  return shell({
    title: `${v.name}: ${g.org.name}`,
    slug: g.org.slug,
    orgName: g.org.name,
    logoUrl: hasLogo ? '../../logo' : null,
    body,
    noindex: true,
    // Browsers without scripts reload every 10 seconds instead; with scripts this element is inert text.
    ...(working ? { head: '<noscript><meta http-equiv="refresh" content="10"></noscript>', script: PROGRESS_SCRIPT } : {}),
  });
}

export function renderErrorPage(slug: string | undefined, status: number, title: string, detail: string) {
  const body = `
<section class="hero" aria-labelledby="page-title">
<h1 id="page-title">${esc(title)}</h1>
<p>${esc(detail)}</p>
<p class="muted">Error ${status}</p>
</section>`;
  // Error pages use only the shared stylesheet: the organization may not exist.
  return shell({ title, slug: slug && /^[a-z0-9-]{1,63}$/.test(slug) ? slug : '_', orgName: 'Trust center', body, noindex: true })
    .replace(/<link rel="stylesheet" href="\/trust\/[^"]*\/theme\.css">\n/, '')
    .replace(/<link rel="alternate"[^>]*>\n/, '');
}

// ---------------------------------------------------------------------------------------------
// Styles: one shared stylesheet and a per-organization theme (the brand colour, validated #rrggbb).

function luminance(hex: string) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

export function renderTheme(brandColor: string | null) {
  const brand = brandColor && /^#[0-9a-f]{6}$/i.test(brandColor) ? brandColor.toLowerCase() : '#1f4e79';
  // White or near-black text on the brand colour, whichever has the higher contrast.
  const l = luminance(brand);
  const ink = 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 ? '#ffffff' : '#111111';
  return `:root{--brand:${brand};--brand-ink:${ink};}\n`;
}

export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path d="M16 2 4 7v8c0 7.5 5.1 13.4 12 15 6.9-1.6 12-7.5 12-15V7z" fill="#1f4e79"/><path d="m10 16 4 4 8-8" fill="none" stroke="#fff" stroke-width="3"/></svg>\n';

export const TRUST_CSS = `*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1b1f24;background:#f6f7f9}
.wrap{max-width:68rem;margin:0 auto;padding:0 1rem}
a{color:#0b4fa3}
a:hover{text-decoration-thickness:2px}
:focus-visible{outline:3px solid #1b1f24;outline-offset:2px;box-shadow:0 0 0 2px #fff}
.skip{position:absolute;left:-999px;top:0;background:#fff;color:#000;padding:.5rem 1rem;z-index:10}
.skip:focus{left:.5rem;top:.5rem}
header.site :focus-visible,.skip:focus-visible{outline-color:var(--brand-ink,#fff);box-shadow:none}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
header.site{background:var(--brand,#1f4e79);color:var(--brand-ink,#fff)}
header.site .bar{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem;padding-top:.75rem;padding-bottom:.75rem}
header.site a{color:inherit}
.brand{display:flex;align-items:center;gap:.5rem;font-weight:700;font-size:1.1rem;text-decoration:none}
.brand img{border-radius:4px;background:#fff}
nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
nav a{text-decoration:none;padding:.25rem 0;display:inline-block}
nav a:hover,nav a:focus-visible{text-decoration:underline}
main{display:block;padding:1.5rem 0 2rem}
main:focus{outline:none;box-shadow:none}
section{margin:0 0 2.5rem}
h1{font-size:clamp(1.6rem,4vw,2.4rem);line-height:1.2;margin:.25rem 0 1rem}
h2{font-size:1.5rem;margin:0 0 1rem;padding-top:.5rem;border-top:3px solid var(--brand,#1f4e79)}
h3{font-size:1.1rem;margin:0 0 .5rem}
.hero{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:1.25rem 1.5rem}
.eyebrow{margin:0;color:#4a5360;font-weight:600;text-transform:uppercase;letter-spacing:.04em;font-size:.85rem}
.updated,.muted{color:#4a5360}
.cards{list-style:none;margin:0 0 1rem;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,20rem),1fr));gap:1rem}
.card{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:1rem 1.25rem}
.card p{margin:.25rem 0}
.facts{margin:.5rem 0;display:grid;gap:.25rem}
.facts div{display:flex;flex-wrap:wrap;gap:.5rem}
.facts dt{font-weight:600;min-width:7rem}
.facts dd{margin:0}
.reason{font-size:.95rem}
.badge{display:inline-block;border-radius:999px;padding:.05rem .6rem;font-size:.85rem;font-weight:600;border:1px solid currentColor}
.badge-valid,.badge-implemented{color:#11632e;background:#e6f4ea}
.badge-due-soon,.badge-partially-implemented{color:#7a4b00;background:#fff4d6}
.badge-stale,.badge-planned{color:#5b3a9b;background:#f0ebfa}
.badge-expired,.badge-not-implemented{color:#9b1c1c;background:#fde8e8}
.badge-not-applicable{color:#404852;background:#eef0f3}
.badge-nda{color:#404852;background:#eef0f3}
.domain{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:1rem 1.25rem;margin:0 0 1rem}
.count{color:#4a5360;font-weight:400}
details>summary{cursor:pointer;padding:.25rem 0;color:#0b4fa3}
.controls{list-style:none;margin:.5rem 0 0;padding:0}
.controls li{border-top:1px solid #eef0f3;padding:.6rem 0}
.controls p{margin:.15rem 0}
.ref{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9rem;background:#eef0f3;border-radius:4px;padding:0 .3rem}
.scroll{overflow-x:auto;border:1px solid #dde1e6;border-radius:8px;background-color:#fff;container-type:scroll-state;
  background-image:linear-gradient(to right,#fff 30%,rgba(255,255,255,0)),linear-gradient(to left,#fff 30%,rgba(255,255,255,0)),radial-gradient(farthest-side at 0 50%,rgba(0,0,0,.25),rgba(0,0,0,0)),radial-gradient(farthest-side at 100% 50%,rgba(0,0,0,.25),rgba(0,0,0,0));
  background-position:left center,right center,left center,right center;background-repeat:no-repeat;
  background-size:2.5rem 100%,2.5rem 100%,.9rem 100%,.9rem 100%;background-attachment:local,local,scroll,scroll}
.scroll-hint{display:none;position:sticky;left:0;margin:0;padding:.5rem 1rem 0;font-size:.9rem;color:#4a5360}
@container scroll-state(scrollable: inline-end){.scroll-hint{display:block}}
.nowrap{white-space:nowrap}
table{border-collapse:collapse;width:100%}
caption{text-align:left;font-weight:600;padding:.75rem 1rem}
th,td{text-align:left;vertical-align:top;padding:.6rem 1rem;border-top:1px solid #eef0f3}
thead th{background:#f1f3f6}
meter{width:6rem;vertical-align:middle}
.docs{list-style:none;margin:0 0 1rem;padding:0}
.doc{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:.75rem 1rem;margin:0 0 .5rem}
.doc p{margin:.25rem 0 0}
form{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:1rem 1.25rem;max-width:40rem}
.field{margin:0 0 1rem;border:0;padding:0}
fieldset.field legend{font-weight:600;margin-bottom:.25rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
input[type=text],input[type=email],input[type=search],textarea{width:100%;font:inherit;padding:.55rem .65rem;border:1px solid #6b7480;border-radius:6px;background:#fff;color:inherit}
input[aria-invalid=true],textarea[aria-invalid=true]{border-color:#9b1c1c;border-width:2px}
.check{display:flex;flex-wrap:wrap;align-items:flex-start;gap:.5rem}
.check input{width:1.25rem;height:1.25rem;margin:.15rem 0 0}
.check label{font-weight:400;flex:1;margin:0}
.check .error{flex-basis:100%}
.error{color:#9b1c1c;font-weight:600;margin:.25rem 0 0}
.error-summary{border:3px solid #9b1c1c;background:#fff;border-radius:8px;padding:.75rem 1rem;margin:0 0 1.5rem;max-width:40rem}
.error-summary h2{font-size:1.25rem;border:0;padding:0;margin:0 0 .5rem}
.error-summary ul{margin:0;padding-left:1.25rem}
.error-summary a{color:#9b1c1c;font-weight:600}
.hint{color:#4a5360;margin:0 0 .5rem}
form.search{background:none;border:0;border-radius:0;padding:0;margin:1rem 0 0;max-width:40rem}
.search-row{display:flex;gap:.5rem}
.search-row input{flex:1;min-width:0}
mark{background:#fff4d6;color:inherit;padding:0 .1em;border-radius:2px}
.results{list-style:none;margin:0 0 1rem;padding:0}
.results li{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:.75rem 1rem;margin:0 0 .5rem}
.results p{margin:.25rem 0 0}
ul.plain{margin:0 0 1rem;padding-left:1.25rem}
.nda{margin:0 0 1rem;background:#f6f7f9;border-radius:6px;padding:.5rem .75rem}
button{font:inherit;font-weight:600;background:var(--brand,#1f4e79);color:var(--brand-ink,#fff);border:0;border-radius:6px;padding:.65rem 1.25rem;cursor:pointer;min-height:44px}
button:hover{filter:brightness(1.1)}
.faq{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:1rem 1.25rem;margin:0 0 .75rem}
.faq p{margin:.25rem 0}
footer.site{border-top:1px solid #dde1e6;background:#fff;padding:1rem 0;color:#4a5360;font-size:.95rem}
@media (max-width:40rem){
  table.stack thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0,0,0,0)}
  table.stack tr{display:block;border-top:1px solid #dde1e6;padding:.5rem 0}
  table.stack th,table.stack td{display:block;border:0;padding:.15rem 1rem}
  .facts dt{min-width:0}
}
@media (prefers-reduced-motion:reduce){*{scroll-behavior:auto!important}}
`;

// ---------------------------------------------------------------------------------------------
// Machine-readable: trust.json and llms.txt

export function renderTrustProfile(m: PublicTrust) {
  return (
    JSON.stringify(
      {
        profileVersion: '1.0',
        kind: 'trust-profile',
        organization: { name: m.organization.name, slug: m.organization.slug, trustCenter: m.links.page, contact: m.contact },
        updatedAt: m.updatedAt,
        frameworks: m.security?.frameworks.map((f) => ({ id: f.id, name: f.name, inScope: f.inScope, attested: f.attested })) ?? [],
        certifications: m.certifications.map((c) => ({
          name: c.name,
          kind: c.kind,
          issuer: c.issuer,
          status: c.status,
          statusReason: c.statusReason,
          issuedAt: c.issuedAt,
          expiresAt: c.expiresAt,
          periodStart: c.periodStart,
          periodEnd: c.periodEnd,
          includesIso27017: c.includesIso27017,
          scope: c.scope,
        })),
        controls:
          m.security?.domains.flatMap((d) =>
            d.controls.map((c) => ({
              framework: c.framework,
              ref: c.ref,
              title: c.title,
              domain: d.name,
              status: c.status,
              responsibility: c.responsibility,
              summary: c.summary,
            })),
          ) ?? [],
        soc2Coverage: m.soc2,
        subprocessors: m.subprocessors,
        documents: m.documents.map((d) =>
          d.visibility === 'public'
            ? { title: d.title, access: 'public', url: d.downloadUrl, contentType: d.contentType, size: d.size, updatedAt: d.updatedAt }
            : { title: d.title, access: 'nda' },
        ),
        faq: m.faq,
        facts: m.facts.map((f) => ({ key: f.key, label: f.label, type: f.type, value: f.value, unit: f.unit })),
        accessRequests: m.access
          ? {
              method: 'POST',
              url: m.access.requestUrl,
              contentType: 'application/json',
              fields: ['name', 'email', 'company', 'reason', 'documentIds', 'ndaAccepted'],
              ndaVersion: m.access.ndaVersion,
            }
          : null,
        links: m.links,
      },
      null,
      2,
    ) + '\n'
  );
}

const line = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();
/**
 * The organization's words as Markdown text, never markup: one line, with the characters that make
 * links, images, HTML, emphasis, code and tables escaped, and a block marker (heading, quote, list)
 * escaped where the text starts a line.
 */
const md = (s: string | null | undefined) =>
  line(s)
    .replace(/[\\`*_[\]<>!|~&]/g, '\\$&')
    .replace(/^([#>+=-])/, '\\$1')
    .replace(/^(\d+)([.)])/, '$1\\$2');
/** An http(s) URL as a Markdown link target (parentheses, brackets and spaces encoded), or undefined. */
const mdUrl = (raw: string | null | undefined) => {
  try {
    const u = new URL(raw ?? '');
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
    return u.href.replace(/[()[\]\s<>]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  } catch {
    return undefined;
  }
};
const mdLink = (text: string, url: string | null | undefined) => {
  const href = mdUrl(url);
  return href ? `[${md(text)}](${href})` : md(text);
};

export function renderLlmsTxt(m: PublicTrust) {
  const out: string[] = [`# ${md(m.organization.name)} Trust Center`, '', `> ${md(m.headline)}`, ''];
  if (m.overview) out.push(md(m.overview), '');
  out.push(`Last updated: ${m.updatedAt.slice(0, 10)}. Only information the organization marked public is listed here.`, '');
  if (m.certifications.length > 0) {
    out.push('## Certifications and reports', '');
    for (const c of m.certifications)
      out.push(`- ${md(c.name)} (${c.kindLabel}${c.issuer ? `, ${md(c.issuer)}` : ''}): ${c.statusLabel}. ${md(c.statusReason)}`);
    out.push('');
  }
  if (m.security) {
    out.push('## Security overview', '');
    for (const f of m.security.frameworks.filter((x) => x.inScope))
      out.push(`- ${f.name}: ${f.attested ? 'independently attested' : 'self-assessed'}. ${md(f.note)}`);
    for (const d of m.security.domains) {
      out.push('', `### ${md(d.name)}`, '');
      for (const c of d.controls) out.push(`- ${c.ref} ${md(c.title)}: ${c.statusLabel}.${c.summary ? ` ${md(c.summary)}` : ''}`);
    }
    out.push('');
  }
  if (m.soc2) {
    out.push(
      '## SOC 2 coverage',
      '',
      `${m.soc2.covered} of ${m.soc2.criteria} criteria fully covered, ${m.soc2.partial} partly; overall ${Math.round(m.soc2.overall * 100)}%.`,
      '',
    );
    for (const g of m.soc2.groups) out.push(`- ${g.group} ${md(g.name)}: ${Math.round(g.coverage * 100)}%`);
    out.push('');
  }
  if (m.facts.length > 0) {
    out.push('## Company facts', '');
    for (const f of m.facts) out.push(`- ${md(f.label)}: ${md(f.statement)}`);
    out.push('');
  }
  if (m.subprocessors.length > 0) {
    out.push('## Subprocessors', '');
    for (const s of m.subprocessors) out.push(`- ${mdLink(s.name, s.url)} (${md(s.location)}): ${md(s.purpose)}`);
    out.push('');
  }
  if (m.documents.length > 0) {
    out.push('## Documents', '');
    for (const d of m.documents) {
      out.push(
        d.visibility === 'public'
          ? `- ${mdLink(d.title, d.downloadUrl)}: public download, updated ${d.updatedAt.slice(0, 10)}`
          : `- ${md(d.title)}: available under NDA${m.access ? `; request access at ${m.access.formUrl}` : ''}`,
      );
    }
    out.push('');
  }
  if (m.faq.length > 0) {
    out.push('## FAQ', '');
    for (const f of m.faq) out.push(`### ${md(f.question)}`, '', md(f.answer), '');
  }
  out.push(
    '## Optional',
    '',
    `- [Trust profile (JSON)](${m.links.trustJson})`,
    `- [Trust page data (JSON API)](${m.links.json})`,
    `- [Trust page](${m.links.page})`,
    '',
  );
  return out.join('\n');
}

// ----- updates, subscriptions and the Atom feed ---------------------------------------------------

export const UPDATE_CATEGORY_LABELS: Record<string, string> = {
  security: 'Security',
  subprocessor: 'Subprocessors',
  certification: 'Certifications',
  incident: 'Incident',
  general: 'General',
};

/** The subscribe form: a plain POST, so it works without scripts; the same answer for every address. */
function subscribeForm(m: PublicTrust, state: { email?: string; error?: string } = {}) {
  const invalid = state.error ? ' aria-invalid="true" aria-describedby="e-sub-email"' : '';
  return `<form method="post" action="/trust/${esc(m.organization.slug)}/subscribe" aria-labelledby="h-subscribe">
<h3 id="h-subscribe">Get updates by e-mail</h3>
<p>We send a confirmation link first; every message has a one-click unsubscribe link.</p>
<div class="field">
<label for="sub-email">E-mail address</label>
${state.error ? `<p class="error" id="e-sub-email"><span class="sr-only">Error: </span>${esc(state.error)}</p>` : ''}
<input id="sub-email" name="email" type="email" autocomplete="email" maxlength="254" value="${esc(state.email ?? '')}" required${invalid}>
</div>
<fieldset class="field">
<legend>Topics <span class="muted">(optional: none ticked means all)</span></legend>
${Object.entries(UPDATE_CATEGORY_LABELS)
  .map(
    ([k, label]) =>
      `<div class="check"><input type="checkbox" id="sub-topic-${k}" name="topics" value="${k}"><label for="sub-topic-${k}">${esc(label)}</label></div>`,
  )
  .join('\n')}
</fieldset>
<button type="submit">Subscribe</button>
</form>`;
}

function updatesSection(m: PublicTrust) {
  const slug = esc(m.organization.slug);
  const items = m.updates
    .map(
      (u) => `<article class="update" id="update-${esc(u.id)}" aria-labelledby="h-update-${esc(u.id)}">
<h3 id="h-update-${esc(u.id)}">${esc(u.title)}</h3>
<p class="muted">${esc(UPDATE_CATEGORY_LABELS[u.category] ?? u.category)} · Published ${time(u.publishedAt)}${u.effectiveAt ? ` · Takes effect ${time(u.effectiveAt)}` : ''}</p>
${u.bodyHtml}
</article>`,
    )
    .join('\n');
  return `
<section id="updates" aria-labelledby="h-updates">
<h2 id="h-updates">Updates</h2>
${m.updates.length > 0 ? items : '<p>No update is published yet.</p>'}
<p><a href="/trust/${slug}/updates.atom">Follow the updates as an Atom feed</a></p>
${subscribeForm(m)}
</section>`;
}

/** A small page of the trust center: a heading, a few sentences, maybe a form. */
function notePage(m: PublicTrust, title: string, body: string, opts: { error?: boolean } = {}) {
  return shell({
    title: `${opts.error ? 'Error: ' : ''}${title}: ${m.organization.name} trust center`,
    slug: m.organization.slug,
    orgName: m.organization.name,
    logoUrl: m.branding.logoUrl,
    body: `
<section class="hero" aria-labelledby="page-title">
<p class="eyebrow">${esc(m.organization.name)} trust center</p>
<h1 id="page-title">${esc(title)}</h1>
${body}
</section>`,
    footer: footer(m),
    noindex: true,
  });
}

const back = (m: PublicTrust) => `<p><a href="/trust/${esc(m.organization.slug)}#updates">Back to the trust center</a></p>`;

/** After a subscribe: the same page whether or not the address was already subscribed. */
export function renderSubscribeReceived(m: PublicTrust) {
  return notePage(
    m,
    'Check your inbox',
    `<p role="status">If this address is not subscribed yet, a message with a confirmation link is on its way. Updates are sent only once the address is confirmed.</p>
${back(m)}`,
  );
}

/** The form again after a refused address, its problem first. */
export function renderSubscribeFormPage(m: PublicTrust, email: string, error: string) {
  return notePage(
    m,
    'Get updates by e-mail',
    `<div class="error-summary" id="form-errors" role="alert" tabindex="-1" autofocus aria-labelledby="form-errors-title">
<h2 id="form-errors-title">There is a problem with your subscription</h2>
<ul><li><a href="#sub-email">${esc(error)}</a></li></ul>
</div>
${subscribeForm(m, { email, error })}
${back(m)}`,
    { error: true },
  );
}

export type SubscriptionLinkState = 'pending' | 'confirmed' | 'unsubscribed' | 'superseded';

/** The confirmation link's page: a button, since opening a link (mail scanners do) must not confirm. */
export function renderConfirmPage(m: PublicTrust, state: SubscriptionLinkState, token: string, done = false) {
  const slug = esc(m.organization.slug);
  if (state === 'confirmed')
    return notePage(
      m,
      done ? 'Subscription confirmed' : 'Already confirmed',
      `<p role="status">You will receive ${esc(m.organization.name)}'s trust center updates by e-mail. Every message has a link to unsubscribe.</p>${back(m)}`,
    );
  if (state === 'pending')
    return notePage(
      m,
      'Confirm your subscription',
      `<p>Confirm that you want ${esc(m.organization.name)}'s trust center updates at this address.</p>
<form method="post" action="/trust/${slug}/subscriptions/confirm?token=${encodeURIComponent(token)}">
<button type="submit">Confirm subscription</button>
</form>`,
    );
  return notePage(
    m,
    'This link is no longer valid',
    `<p>${state === 'superseded' ? 'A newer confirmation e-mail was sent to this address: use the link in that one.' : 'This address was unsubscribed. To follow the updates again, subscribe again.'}</p>${back(m)}`,
  );
}

/** The unsubscribe link's page: one button (RFC 8058 clients post to the same address without it). */
export function renderUnsubscribePage(m: PublicTrust, state: SubscriptionLinkState, token: string, done = false) {
  if (done || state === 'unsubscribed')
    return notePage(m, 'You are unsubscribed', `<p role="status">No further update will be sent to this address.</p>${back(m)}`);
  return notePage(
    m,
    'Unsubscribe',
    `<p>Stop receiving ${esc(m.organization.name)}'s trust center updates at this address.</p>
<form method="post" action="/trust/${esc(m.organization.slug)}/subscriptions/unsubscribe?token=${encodeURIComponent(token)}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button>
</form>`,
  );
}

// XML 1.0 allows no C0 control characters except tab and line breaks.
const xml = (v: unknown) => esc(v).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');

/** The published updates as an Atom feed (RFC 4287), newest first. */
export function renderUpdatesAtom(m: PublicTrust) {
  const updated = m.updates[0]?.publishedAt ?? m.updatedAt;
  const entries = m.updates
    .map(
      (u) => `<entry>
<id>urn:uuid:${xml(u.id)}</id>
<title type="text">${xml(u.title)}</title>
<published>${xml(u.publishedAt)}</published>
<updated>${xml(u.publishedAt)}</updated>
<link rel="alternate" type="text/html" href="${xml(u.url)}"/>
<category term="${xml(u.category)}" label="${xml(UPDATE_CATEGORY_LABELS[u.category] ?? u.category)}"/>
<content type="html">${xml(`${u.effectiveAt ? `<p>Takes effect ${longDate(u.effectiveAt)}.</p>` : ''}${u.bodyHtml}`)}</content>
</entry>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<id>${xml(m.links.updatesAtom)}</id>
<title type="text">${xml(m.organization.name)} trust center updates</title>
<updated>${xml(updated)}</updated>
<link rel="self" type="application/atom+xml" href="${xml(m.links.updatesAtom)}"/>
<link rel="alternate" type="text/html" href="${xml(m.links.page)}"/>
<author><name>${xml(m.organization.name)}</name></author>
${entries}
</feed>
`;
}
