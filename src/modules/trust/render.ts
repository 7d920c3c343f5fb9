import type { ResolvedGrant } from './access.js';
import type { PublicDocument, PublicTrust } from './service.js';

// Server-rendered HTML: every value from the database goes through esc(); no inline script or
// style (the CSP allows only this origin's stylesheet), so markup injection cannot run code.

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (c) => ESC[c]!);

const paragraphs = (text: string | null | undefined) =>
  (text ?? '').split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean).map((p) => `<p>${esc(p).replace(/\n/g, '<br>')}</p>`).join('\n');

export const longDate = (iso: string | null | undefined) =>
  iso ? new Date(iso).toLocaleDateString('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'long', year: 'numeric' }) : '';
const time = (iso: string | null | undefined) => (iso ? `<time datetime="${esc(iso)}">${esc(longDate(iso))}</time>` : '');

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

export const CSP = [
  "default-src 'none'", "style-src 'self'", "img-src 'self'", "script-src 'none'", "form-action 'self'",
  "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'", "connect-src 'none'", "font-src 'none'",
].join('; ');

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
}

function shell(s: Shell) {
  const nav = s.nav && s.nav.length > 0
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
</body>
</html>
`;
}

function badge(status: string, label: string) {
  return `<span class="badge badge-${esc(status.replace(/_/g, '-'))}">${esc(label)}</span>`;
}

function certificationsSection(m: PublicTrust) {
  if (!m.sections.includes('certifications')) return '';
  const items = m.certifications.map((c) => `
<li class="card">
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
<p class="reason">${esc(c.statusReason)}</p>
${c.scope ? `<details><summary>Scope</summary><p>${esc(c.scope)}</p></details>` : ''}
</li>`).join('');
  return `
<section id="certifications" aria-labelledby="h-certifications">
<h2 id="h-certifications">Certifications and reports</h2>
${m.certifications.length > 0 ? `<ul class="cards">${items}</ul>` : '<p>No certification is published yet.</p>'}
</section>`;
}

function securitySection(m: PublicTrust) {
  if (!m.security) return '';
  const frameworks = m.security.frameworks.filter((f) => f.inScope).map((f) => `
<li class="card small"><h3>${esc(f.name)}</h3><p>${f.attested ? badge('valid', 'Independently attested') : badge('planned', 'Self-assessed')}</p><p>${esc(f.note)}</p></li>`).join('');
  const domains = m.security.domains.map((d) => `
<section class="domain" aria-labelledby="h-domain-${esc(d.id)}">
<h3 id="h-domain-${esc(d.id)}">${esc(d.name)} <span class="count">(${d.controls.length})</span></h3>
<details>
<summary>Show the ${d.controls.length} controls</summary>
<ul class="controls">
${d.controls.map((c) => `<li><p><span class="ref">${esc(c.ref)}</span> <strong>${esc(c.title)}</strong> ${badge(c.status, c.statusLabel)}</p>${c.summary ? `<p>${esc(c.summary)}</p>` : ''}</li>`).join('\n')}
</ul>
</details>
</section>`).join('');
  return `
<section id="security" aria-labelledby="h-security">
<h2 id="h-security">Security overview</h2>
<ul class="cards">${frameworks}</ul>
${domains || '<p>No control summary is published yet.</p>'}
</section>`;
}

function soc2Section(m: PublicTrust) {
  if (!m.soc2) return '';
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return `
<section id="soc2" aria-labelledby="h-soc2">
<h2 id="h-soc2">SOC 2 coverage</h2>
<p>Our ISO/IEC 27001 controls cover the SOC 2 Trust Services Criteria as follows: ${m.soc2.covered} of ${m.soc2.criteria} criteria fully, ${m.soc2.partial} partly; overall coverage ${pct(m.soc2.overall)}.</p>
<div class="scroll" role="region" aria-labelledby="cap-soc2" tabindex="0">
<table>
<caption id="cap-soc2">Coverage by criteria group</caption>
<thead><tr><th scope="col">Group</th><th scope="col">Criteria</th><th scope="col">Coverage</th></tr></thead>
<tbody>
${m.soc2.groups.map((g) => `<tr><th scope="row">${esc(g.group)} ${esc(g.name)}</th><td>${g.criteria}</td><td><meter min="0" max="1" value="${g.coverage}" aria-hidden="true"></meter> ${pct(g.coverage)}</td></tr>`).join('\n')}
</tbody>
</table>
</div>
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
<div class="scroll" role="region" aria-labelledby="cap-subprocessors" tabindex="0">
<table class="stack">
<caption id="cap-subprocessors">Third parties that process customer data for us</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Purpose</th><th scope="col">Location</th></tr></thead>
<tbody>
${m.subprocessors.map((s) => `<tr><th scope="row">${s.url ? `<a href="${esc(s.url)}" rel="noopener noreferrer">${esc(s.name)}</a>` : esc(s.name)}</th><td>${esc(s.purpose)}</td><td>${esc(s.location)}</td></tr>`).join('\n')}
</tbody>
</table>
</div>
</section>`;
}

export interface FormState {
  values: Record<string, string | string[] | undefined>;
  errors: { field: string; message: string }[];
}

const FIELD_LABELS: Record<string, string> = { name: 'Name', email: 'Work email', company: 'Company', reason: 'Why you need the documents', ndaAccepted: 'NDA acceptance', documentIds: 'Documents' };

export function accessForm(m: PublicTrust, state: FormState = { values: {}, errors: [] }) {
  if (!m.access) return '';
  const errorOf = (f: string) => state.errors.find((e) => e.field === f || e.field.startsWith(`${f}/`));
  const v = (f: string) => { const x = state.values[f]; return Array.isArray(x) ? x[0] ?? '' : x ?? ''; };
  const input = (name: string, type: string, autocomplete: string, required = true) => {
    const err = errorOf(name);
    return `<div class="field">
<label for="f-${name}">${esc(FIELD_LABELS[name])}${required ? '' : ' <span class="muted">(optional)</span>'}</label>
<input id="f-${name}" name="${name}" type="${type}" autocomplete="${autocomplete}" maxlength="${name === 'email' ? 254 : 200}" value="${esc(v(name))}"${required ? ' required' : ''}${err ? ` aria-invalid="true" aria-describedby="e-${name}"` : ''}>
${err ? `<p class="error" id="e-${name}">${esc(err.message)}</p>` : ''}
</div>`;
  };
  const chosen = new Set(([] as string[]).concat(state.values.documentIds ?? []));
  const nda = m.documents.filter((d) => d.visibility === 'nda');
  const ndaErr = errorOf('ndaAccepted');
  const reasonErr = errorOf('reason');
  const summary = state.errors.length > 0 ? `
<div class="error-summary" role="alert" tabindex="-1" id="form-errors">
<h3>Please correct ${state.errors.length === 1 ? 'this problem' : `these ${state.errors.length} problems`}</h3>
<ul>${state.errors.map((e) => { const f = e.field.split('/')[0]!; return `<li><a href="#f-${esc(f === 'documentIds' ? 'doc-0' : f)}">${esc(FIELD_LABELS[f] ?? f)}: ${esc(e.message)}</a></li>`; }).join('')}</ul>
</div>` : '';
  return `
<section id="request-access" aria-labelledby="h-request">
<h2 id="h-request">Request access to NDA documents</h2>
<p>Tell us who you are and accept the non-disclosure terms. Every field is required unless marked optional. We review each request; approved access comes as a personal link that expires.</p>
${summary}
<form method="post" action="/trust/${esc(m.organization.slug)}/request-access">
${input('name', 'text', 'name')}
${input('email', 'email', 'email')}
${input('company', 'text', 'organization')}
<div class="field">
<label for="f-reason">${FIELD_LABELS.reason} <span class="muted">(optional)</span></label>
<textarea id="f-reason" name="reason" rows="3" maxlength="2000"${reasonErr ? ' aria-invalid="true" aria-describedby="e-reason"' : ''}>${esc(v('reason'))}</textarea>
${reasonErr ? `<p class="error" id="e-reason">${esc(reasonErr.message)}</p>` : ''}
</div>
${nda.length > 1 ? `<fieldset class="field">
<legend>Documents you need <span class="muted">(leave all unticked for every one)</span></legend>
${nda.map((d, i) => `<div class="check"><input type="checkbox" id="f-doc-${i}" name="documentIds" value="${esc(d.id)}"${chosen.has(d.id) ? ' checked' : ''}><label for="f-doc-${i}">${esc(d.title)}</label></div>`).join('\n')}
</fieldset>` : ''}
<details class="nda">
<summary>Read the non-disclosure terms</summary>
${paragraphs(m.access.ndaText)}
<p class="muted">Version ${esc(m.access.ndaVersion.slice(0, 19))}</p>
</details>
<input type="hidden" name="ndaVersion" value="${esc(m.access.ndaVersion)}">
<div class="check field">
<input type="checkbox" id="f-ndaAccepted" name="ndaAccepted" value="true" required${ndaErr ? ' aria-invalid="true" aria-describedby="e-ndaAccepted"' : ''}>
<label for="f-ndaAccepted">I accept the non-disclosure terms for myself and the company I named</label>
${ndaErr ? `<p class="error" id="e-ndaAccepted">${esc(ndaErr.message)}</p>` : ''}
</div>
<button type="submit">Request access</button>
</form>
</section>`;
}

function documentItem(d: PublicDocument, slug: string) {
  if (d.visibility === 'public') {
    return `<li class="doc"><a href="/trust/${esc(slug)}/documents/${esc(d.id)}" download>${esc(d.title)}</a> <span class="muted">(${esc(kindOf(d.contentType, d.fileName))}, ${esc(size(d.size))})</span>${d.description ? `<p>${esc(d.description)}</p>` : ''}</li>`;
  }
  return `<li class="doc"><span>${esc(d.title)}</span> ${badge('nda', 'Under NDA')}</li>`;
}

function documentsSection(m: PublicTrust, form: FormState | undefined) {
  if (!m.sections.includes('documents')) return '';
  const list = m.documents.map((d) => documentItem(d, m.organization.slug)).join('\n');
  return `
<section id="documents" aria-labelledby="h-documents">
<h2 id="h-documents">Documents</h2>
${m.documents.length > 0 ? `<ul class="docs">${list}</ul>` : '<p>No document is published yet.</p>'}
${m.access ? '<p><a href="#request-access">Request access to the documents under NDA</a></p>' : ''}
</section>
${accessForm(m, form)}`;
}

function factsSection(m: PublicTrust) {
  if (m.facts.length === 0) return '';
  const unit = (f: PublicTrust['facts'][number]) => (!f.unit || f.type !== 'number' ? '' : f.unit === 'percent' ? '%' : ` ${esc(f.unit)}`);
  const value = (f: PublicTrust['facts'][number]) => `${esc(f.display)}${unit(f)}`;
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
${m.faq.map((f, i) => `<div class="faq"><h3 id="faq-${i}">${esc(f.question)}</h3>${paragraphs(f.answer)}</div>`).join('\n')}
</section>`;
}

function footer(m: PublicTrust) {
  const slug = esc(m.organization.slug);
  const contact = [
    m.contact.email ? `<a href="mailto:${esc(m.contact.email)}">${esc(m.contact.email)}</a>` : '',
    m.contact.url ? `<a href="${esc(m.contact.url)}" rel="noopener noreferrer">${esc(m.contact.url)}</a>` : '',
  ].filter(Boolean).join(' · ');
  return `${contact ? `<p>Security contact: ${contact}</p>` : ''}
<p>Last updated ${time(m.updatedAt)}. Machine-readable: <a href="/trust/${slug}/trust.json">trust profile (JSON)</a> · <a href="/trust/${slug}/llms.txt">llms.txt</a></p>`;
}

export function renderTrustPage(m: PublicTrust, form?: FormState) {
  const nav = [
    m.sections.includes('certifications') && { href: '#certifications', label: 'Certifications' },
    m.facts.length > 0 && { href: '#facts', label: 'Company facts' },
    m.security && { href: '#security', label: 'Security' },
    m.soc2 && { href: '#soc2', label: 'SOC 2' },
    m.sections.includes('subprocessors') && { href: '#subprocessors', label: 'Subprocessors' },
    m.sections.includes('documents') && { href: '#documents', label: 'Documents' },
    m.sections.includes('faq') && m.faq.length > 0 && { href: '#faq', label: 'FAQ' },
  ].filter((x): x is { href: string; label: string } => Boolean(x));
  const body = `
<section class="hero" aria-labelledby="page-title">
<p class="eyebrow">${esc(m.organization.name)} trust center</p>
<h1 id="page-title">${esc(m.headline)}</h1>
${paragraphs(m.overview)}
<p class="updated">Last updated ${time(m.updatedAt)}</p>
</section>
${certificationsSection(m)}
${factsSection(m)}
${securitySection(m)}
${soc2Section(m)}
${subprocessorsSection(m)}
${documentsSection(m, form)}
${faqSection(m)}`;
  return shell({
    title: `${m.organization.name} trust center`, slug: m.organization.slug, orgName: m.organization.name, logoUrl: m.branding.logoUrl,
    nav, description: m.headline, body, footer: footer(m),
  });
}

export function renderRequestReceived(m: PublicTrust, outcome: { status: string }) {
  const body = `
<section class="hero" aria-labelledby="page-title">
<h1 id="page-title">Request received</h1>
<p role="status">Thank you: your request for access has been recorded with the NDA you accepted.</p>
<p>${outcome.status === 'approved'
    ? 'Your request is approved. A personal link to the documents will be sent to the email address you gave.'
    : `${esc(m.organization.name)} reviews requests and will send a personal link to the email address you gave once it is approved.`}</p>
<p><a href="/trust/${esc(m.organization.slug)}">Back to the trust center</a></p>
</section>`;
  return shell({ title: `Request received: ${m.organization.name}`, slug: m.organization.slug, orgName: m.organization.name, logoUrl: m.branding.logoUrl, body, footer: footer(m), noindex: true });
}

export function renderGrantPage(g: ResolvedGrant, token: string, hasLogo: boolean) {
  const slug = esc(g.org.slug);
  const items = g.documents.map((d) => `
<li class="doc"><a href="/trust/${slug}/access/${esc(token)}/documents/${esc(d.id)}" download>${esc(d.title)}</a> <span class="muted">(${esc(kindOf(d.contentType, d.fileName))}, ${esc(size(d.size))})</span>${d.description ? `<p>${esc(d.description)}</p>` : ''}</li>`).join('');
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
<p>We answer it from our published security information; answers that need a person's review are marked as pending until we have checked them.</p>
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
  questions: Array<{ ref: string | null; text: string; answer: { choice: string | null; text: string | null } | null; pending: boolean }>;
}

/** The prospect's questionnaire as a page; it refreshes itself (no script) until the answers are in. */
export function renderProspectQuestionnaire(g: ResolvedGrant, token: string, v: ProspectQuestionnaireView, hasLogo: boolean) {
  const base = `/trust/${esc(g.org.slug)}/access/${esc(token)}`;
  const working = v.status === 'queued' || v.status === 'filling' || v.status === 'imported';
  const pending = v.questions.filter((q) => q.pending).length;
  const rows = v.questions.map((q) => `
<li class="doc"><p><strong>${q.ref ? `${esc(q.ref)}: ` : ''}${esc(q.text)}</strong></p>
${q.answer ? `<p>${q.answer.choice ? `<span class="badge">${esc(q.answer.choice)}</span> ` : ''}${esc(q.answer.text ?? '')}</p>` : '<p class="muted">Pending review by our security team.</p>'}</li>`).join('');
  const body = `
<section class="hero" aria-labelledby="page-title">
<p class="eyebrow">${esc(g.org.name)} trust center</p>
<h1 id="page-title">${esc(v.name)}</h1>
<p>${working ? `Answering: ${v.progress.done} of ${v.progress.total} questions so far. This page refreshes by itself.` : `${v.questions.length - pending} answered, ${pending} pending review.`}</p>
${v.released ? `<p><a href="${base}/questionnaires/${esc(v.id)}/export?format=xlsx" download>Download the answered file</a></p>` : '<p class="muted">The answered file can be downloaded once our team has reviewed it.</p>'}
</section>
<section aria-labelledby="h-answers">
<h2 id="h-answers">Answers</h2>
<ol class="docs">${rows}</ol>
</section>
<p><a href="${base}">Back to the shared documents</a></p>`;
  const page = shell({ title: `${v.name}: ${g.org.name}`, slug: g.org.slug, orgName: g.org.name, logoUrl: hasLogo ? '../../logo' : null, body, noindex: true });
  return working ? page.replace('</head>', '<meta http-equiv="refresh" content="5">\n</head>') : page;
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
  const ink = (1.05 / (l + 0.05)) >= ((l + 0.05) / 0.05) ? '#ffffff' : '#111111';
  return `:root{--brand:${brand};--brand-ink:${ink};}\n`;
}

export const FAVICON_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path d="M16 2 4 7v8c0 7.5 5.1 13.4 12 15 6.9-1.6 12-7.5 12-15V7z" fill="#1f4e79"/><path d="m10 16 4 4 8-8" fill="none" stroke="#fff" stroke-width="3"/></svg>\n';

export const TRUST_CSS = `*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1b1f24;background:#f6f7f9}
.wrap{max-width:68rem;margin:0 auto;padding:0 1rem}
a{color:#0b4fa3}
a:hover{text-decoration-thickness:2px}
:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;color:#000;padding:.5rem 1rem;z-index:10}
.skip:focus{left:.5rem;top:.5rem}
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
main:focus{outline:none}
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
.scroll{overflow-x:auto;background:#fff;border:1px solid #dde1e6;border-radius:8px}
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
input[type=text],input[type=email],textarea{width:100%;font:inherit;padding:.55rem .65rem;border:1px solid #6b7480;border-radius:6px;background:#fff;color:inherit}
input[aria-invalid=true],textarea[aria-invalid=true]{border-color:#9b1c1c;border-width:2px}
.check{display:flex;flex-wrap:wrap;align-items:flex-start;gap:.5rem}
.check input{width:1.25rem;height:1.25rem;margin:.15rem 0 0}
.check label{font-weight:400;flex:1;margin:0}
.check .error{flex-basis:100%}
.error{color:#9b1c1c;font-weight:600;margin:.25rem 0 0}
.error-summary{border:3px solid #9b1c1c;background:#fff;border-radius:8px;padding:.75rem 1rem;margin:0 0 1rem;max-width:40rem}
.error-summary a{color:#9b1c1c}
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
  return JSON.stringify({
    profileVersion: '1.0',
    kind: 'trust-profile',
    organization: { name: m.organization.name, slug: m.organization.slug, trustCenter: m.links.page, contact: m.contact },
    updatedAt: m.updatedAt,
    frameworks: m.security?.frameworks.map((f) => ({ id: f.id, name: f.name, inScope: f.inScope, attested: f.attested })) ?? [],
    certifications: m.certifications.map((c) => ({
      name: c.name, kind: c.kind, issuer: c.issuer, status: c.status, statusReason: c.statusReason, issuedAt: c.issuedAt, expiresAt: c.expiresAt,
      periodStart: c.periodStart, periodEnd: c.periodEnd, includesIso27017: c.includesIso27017, scope: c.scope,
    })),
    controls: m.security?.domains.flatMap((d) => d.controls.map((c) => ({ framework: c.framework, ref: c.ref, title: c.title, domain: d.name, status: c.status, responsibility: c.responsibility, summary: c.summary }))) ?? [],
    soc2Coverage: m.soc2,
    subprocessors: m.subprocessors,
    documents: m.documents.map((d) => (d.visibility === 'public'
      ? { title: d.title, access: 'public', url: d.downloadUrl, contentType: d.contentType, size: d.size }
      : { title: d.title, access: 'nda' })),
    faq: m.faq,
    facts: m.facts.map((f) => ({ key: f.key, label: f.label, type: f.type, value: f.value, unit: f.unit })),
    accessRequests: m.access ? { method: 'POST', url: m.access.requestUrl, contentType: 'application/json', fields: ['name', 'email', 'company', 'reason', 'documentIds', 'ndaAccepted'], ndaVersion: m.access.ndaVersion } : null,
    links: m.links,
  }, null, 2) + '\n';
}

const line = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();
/**
 * The organization's words as Markdown text, never markup: one line, with the characters that make
 * links, images, HTML, emphasis, code and tables escaped, and a block marker (heading, quote, list)
 * escaped where the text starts a line.
 */
const md = (s: string | null | undefined) => line(s)
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
    for (const c of m.certifications) out.push(`- ${md(c.name)} (${c.kindLabel}${c.issuer ? `, ${md(c.issuer)}` : ''}): ${c.statusLabel}. ${md(c.statusReason)}`);
    out.push('');
  }
  if (m.security) {
    out.push('## Security overview', '');
    for (const f of m.security.frameworks.filter((x) => x.inScope)) out.push(`- ${f.name}: ${f.attested ? 'independently attested' : 'self-assessed'}. ${md(f.note)}`);
    for (const d of m.security.domains) {
      out.push('', `### ${md(d.name)}`, '');
      for (const c of d.controls) out.push(`- ${c.ref} ${md(c.title)}: ${c.statusLabel}.${c.summary ? ` ${md(c.summary)}` : ''}`);
    }
    out.push('');
  }
  if (m.soc2) {
    out.push('## SOC 2 coverage', '', `${m.soc2.covered} of ${m.soc2.criteria} criteria fully covered, ${m.soc2.partial} partly; overall ${Math.round(m.soc2.overall * 100)}%.`, '');
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
      out.push(d.visibility === 'public' ? `- ${mdLink(d.title, d.downloadUrl)}: public download` : `- ${md(d.title)}: available under NDA${m.access ? `; request access at ${m.access.formUrl}` : ''}`);
    }
    out.push('');
  }
  if (m.faq.length > 0) {
    out.push('## FAQ', '');
    for (const f of m.faq) out.push(`### ${md(f.question)}`, '', md(f.answer), '');
  }
  out.push('## Optional', '', `- [Trust profile (JSON)](${m.links.trustJson})`, `- [Trust page data (JSON API)](${m.links.json})`, `- [Trust page](${m.links.page})`, '');
  return out.join('\n');
}
