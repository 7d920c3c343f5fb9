import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import {
  allowedMeaning,
  asksYesNo,
  frequencyPerYear,
  splitParts,
  stripLead,
  understand,
  type FactNeed,
  type PlaceTable,
  type QuestionKind,
} from '../../../src/modules/questionnaires/understand.js';

/**
 * Question understanding on phrasings written for these tests (our own words, for a fictional
 * vendor), one row per wording. An expectation without factKey on a practice, risk or free-text
 * question also asserts that no profile fact was attached.
 */
interface Expect {
  kind: QuestionKind;
  yesNo: boolean;
  polarity?: 'normal' | 'risk';
  factKey?: string;
  test?: FactNeed['test'];
  negated?: boolean;
  country?: string;
  value?: string;
  quantifier?: 'any' | 'all';
  op?: FactNeed['op'];
  number?: number;
  unit?: string;
  months?: number;
  parts?: number;
  customerSide?: boolean;
  shape?: string;
  stripped?: string;
}
interface Case {
  text: string;
  allowedAnswers?: string[];
  expect: Expect;
}

const YN = ['Yes', 'No'];
const YNNA = ['Yes', 'No', 'N/A'];

const practice = (text: string, more: Partial<Expect> = {}, allowedAnswers?: string[]): Case => ({
  text,
  allowedAnswers,
  expect: { kind: 'practice', yesNo: true, polarity: 'normal', ...more },
});
const risk = (text: string, more: Partial<Expect> = {}, allowedAnswers?: string[]): Case => ({
  text,
  allowedAnswers,
  expect: { kind: 'risk', yesNo: true, polarity: 'risk', ...more },
});
const scope = (text: string, factKey: string, more: Partial<Expect> = {}, allowedAnswers?: string[]): Case => ({
  text,
  allowedAnswers,
  expect: { kind: 'scope', yesNo: true, factKey, ...more },
});
const fact = (text: string, factKey: string | undefined, more: Partial<Expect> = {}): Case => ({
  text,
  expect: { kind: 'fact', yesNo: false, ...(factKey ? { factKey, test: 'state' as const } : {}), ...more },
});
const free = (text: string, more: Partial<Expect> = {}): Case => ({ text, expect: { kind: 'free_text', yesNo: false, ...more } });
const option = (text: string, allowedAnswers: string[], more: Partial<Expect> = {}): Case => ({
  text,
  allowedAnswers,
  expect: { kind: 'option', yesNo: false, ...more },
});

const yesNoForms: Case[] = [
  practice('4.2 Do you rotate service account keys?', { stripped: 'Do you rotate service account keys?' }),
  practice('17. Is remote wipe enabled on phones?'),
  practice('Q9: Are audit trails immutable?'),
  practice('NET-03.1 Are network zones segmented by firewalls?'),
  practice('24x7 monitoring in place?'),
  practice('Data kept in an encrypted vault?'),
  practice('Vendor patches applied within a month?'),
  practice('Is MFA enforced, and if not, why not?'),
  practice('Do you log administrator logins? If yes, for how long are the logs kept?'),
  practice('Do you enforce multi-factor authentication for administrators?'),
  practice('Does your organization keep an inventory of hardware assets?'),
  practice('Does the platform log every administrative action?'),
  practice('Does the solution support role-based access control?'),
  practice('Is remote access protected by a VPN or an equivalent gateway?'),
  practice('Are firewall rules reviewed at least twice a year?'),
  practice('Has a named person been given responsibility for information security?'),
  practice('Have all staff completed privacy training this year?'),
  practice('Can administrators revoke a session immediately?'),
  practice('Will you notify us before changing a subcontractor?'),
  practice('Would you accept an on-site audit by our security team?'),
  practice('Should a laptop be lost, is its disk encrypted?'),
  practice('Must contractors sign a confidentiality agreement before starting?'),
  practice('Was your incident response plan exercised in the last twelve months?'),
  practice('Were access rights recertified during the last quarter?'),
  practice('Encryption of backups (Y/N)', { stripped: 'Encryption of backups' }),
  practice('Backups are tested by restoring them Y/N', { stripped: 'Backups are tested by restoring them' }),
  practice('Vulnerability scanning of external hosts - Yes/No'),
  practice('[Yes/No] Security patches are applied within a documented timeframe'),
  practice('Antivirus on all endpoints? [Yes/No]'),
  practice('Yes or no: all production changes go through peer review.'),
  practice('Confirm that laptops lock after ten minutes of inactivity.', { stripped: 'Laptops lock after ten minutes of inactivity.' }),
  practice('Please confirm that firewall changes are approved by a second engineer.', { stripped: 'Firewall changes are approved by a second engineer.' }),
  practice('Please confirm whether you keep logs for at least a year.'),
  practice('Kindly confirm you review user access every quarter.'),
  practice('Indicate whether you perform code review before every release.'),
  practice('Please indicate if customer data is segregated per tenant.', { stripped: 'Customer data is segregated per tenant.' }),
  practice('State whether your staff receive phishing awareness training.'),
  practice('Specify whether audit logs are protected from tampering.'),
  practice('Tell us whether administrators use separate accounts for daily work.'),
  practice('Advise if your service undergoes independent security testing.'),
  practice('Let us know whether data in transit is encrypted with TLS.'),
  practice('Can you confirm that keys are stored in a hardware security module?'),
  practice('When an employee leaves, do you disable their accounts on the same day?', { stripped: 'Do you disable their accounts on the same day?' }),
  practice('When a contractor finishes an engagement, are their badges collected?'),
  practice('If you use subprocessors, are they bound by written security terms?', { stripped: 'Are they bound by written security terms?' }),
  practice('For remote access, is MFA required?', { stripped: 'Is MFA required?' }),
  practice('In the event of a ransomware attack, can you restore from offline copies?'),
  practice('During onboarding, does every new hire sign the acceptable use policy?'),
  practice('After a major change, is a security review performed?'),
  practice('Regarding cryptographic keys, are they rotated on a fixed schedule?'),
  practice('With respect to mobile apps, do you run static analysis before release?'),
  practice('As part of change management, are emergency changes reviewed afterwards?'),
  practice('Upon termination of a contract, will you delete our data on request?'),
  practice('Before going live, does each system pass a vulnerability scan?'),
  practice('For privileged users, please confirm that sessions are recorded.'),
  practice('Where customer data is exported, is the export logged?'),
  practice('Our policy requires encrypted USB drives; do you enforce the same?'),
  practice('Your SOC monitors alerts around the clock, is that correct?'),
  practice('Describe your patching approach, and do you track exceptions to it?'),
  practice('Is there a documented process for granting emergency access? If so, please describe it.'),
  practice('Do you maintain a software bill of materials for the product? Please explain.'),
  practice('Do you (a) classify data and (b) label documents by classification?', { parts: 2 }),
  practice('Does your backup process: (a) run daily; (b) keep copies offsite; (c) get tested quarterly?', { parts: 3 }),
  practice('Are these controls in place: a) disk encryption b) screen lock c) host firewall', { parts: 3 }),
  practice('Do you (i) scan code and (ii) scan containers for known flaws?', { parts: 2 }),
  practice('Is it true that all admin consoles sit behind single sign-on?'),
  practice('Multi-factor authentication for remote access', {}, YN),
  practice('Data retention schedule documented', {}, YNNA),
  practice('Describe your secure development lifecycle.', {}, ['Yes', 'No', 'Partial', 'N/A']),
  practice('Intrusion detection on production networks', {}, ['Y', 'N']),
  practice('Logs are centrally collected', {}, ['TRUE', 'FALSE']),
  practice('Security awareness program in place', {}, ['Compliant', 'Non-compliant', 'Not applicable']),
  practice('Change management process', {}, ['Yes', 'No', 'In progress']),
];

const scopeCases: Case[] = [
  scope('Do you have an on-premise solution?', 'services.on_premises_option', { test: 'boolean' }),
  scope('6.4 Will any of our data be stored in India?', 'data.storage_countries', { country: 'India' }),
  scope('Customer records hosted in Ireland?', 'data.storage_countries', { test: 'contains', country: 'Ireland' }),
  scope('Are client files hosted in EU data centres?', 'data.storage_countries', { test: 'contains', country: 'European Union' }),
  scope('Are all of your data centres located within New Zealand?', 'data.storage_countries', { test: 'contains', country: 'New Zealand', quantifier: 'all' }),
  scope('Do you keep our records in the EU or EEA only?', 'data.storage_countries', { test: 'contains', country: 'European Union', quantifier: 'all' }),
  scope('Our files must stay in Canada. Is that the case?', 'data.storage_countries', { test: 'contains', country: 'Canada', quantifier: 'all' }),
  scope('Do you host data in any country other than Japan?', 'data.storage_countries', { test: 'contains', country: 'Japan', negated: true, polarity: 'risk' }),
  scope('Confirm: no client data is processed in Russia.', 'data.storage_countries', {
    test: 'contains',
    country: 'Russia',
    negated: true,
    quantifier: 'all',
    polarity: 'normal',
  }),
  scope('Is the RTO equal to or less than 6 hours?', 'bcdr.rto_hours', { test: 'compare', op: '<=', number: 6 }),
  scope('Is your recovery time objective less than or equal to 2 hours?', 'bcdr.rto_hours', { test: 'compare', op: '<=', number: 2 }),
  scope('Is your RTO <= 12h?', 'bcdr.rto_hours', { test: 'compare', op: '<=', number: 12 }),
  scope('Is the RPO at most 45 min?', 'bcdr.rpo_minutes', { test: 'compare', op: '<=', number: 45 }),
  scope('Can data be recovered to a point no older than 2 hours?', 'bcdr.rpo_minutes', { test: 'compare', op: '<=', number: 120 }),
  scope('Is the recovery time under one business day?', 'bcdr.rto_hours', { test: 'compare', op: '<', number: 24 }),
  scope('Are backups retained for at least 35 days?', 'data.backup_retention_days', { test: 'compare', op: '>=', number: 35, unit: 'days' }),
  scope('Do you keep backups for 6 months or more?', 'data.backup_retention_days', { test: 'compare', op: '>=', number: 180 }),
  scope('Do you have fewer than 20 employees?', 'company.employee_count', { test: 'compare', op: '<', number: 20 }),
  scope('Is the business continuity plan exercised every year?', 'bcdr.dr_test_frequency', { test: 'compare', number: 1 }),
  scope('Is the provider a PCI DSS validated service provider?', 'compliance.certifications', { test: 'contains', value: 'PCI DSS' }),
  scope("Are you listed on a card brand's list of registered service providers?", 'compliance.certifications', { value: 'PCI DSS' }),
  scope('Does your product handle PCI data?', 'data.processes_cardholder_data', { test: 'boolean' }),
  scope('Does the application include a chatbot?', 'ai.product_uses_ai', { test: 'boolean' }),
  scope('Does the service call third-party AI services such as hosted LLMs?', 'ai.product_uses_ai', { test: 'boolean' }),
  scope('Has client data ever been used to train a model?', 'ai.trains_on_customer_data', { polarity: 'risk' }),
  scope('In the last 2 years, have you had a reportable security incident?', 'incidents.reportable_breach_last_36_months', { months: 24, polarity: 'risk' }),
  scope('Within the past 36 months, was there any unauthorized access to client data?', 'incidents.reportable_breach_last_36_months', {
    months: 36,
    polarity: 'risk',
  }),
  scope('Do you provide a private cloud option?', 'services.single_tenant_option', { test: 'boolean' }),
  // PHI / HIPAA
  scope('Do you process protected health information?', 'data.processes_phi', { test: 'boolean', polarity: 'normal' }),
  scope('Will the service store or handle PHI on our behalf?', 'data.processes_phi', { test: 'boolean' }),
  scope('Does your application collect patient records?', 'data.processes_phi', { test: 'boolean' }),
  scope('Does the product require access to medical records?', 'data.processes_phi', { test: 'boolean' }),
  scope('Will your staff have access to health information of our members?', 'data.processes_phi', { test: 'boolean' }),
  scope('Is HIPAA applicable to the services you provide?', 'data.processes_phi', { test: 'boolean' }),
  scope('Are you subject to HIPAA for this engagement?', 'data.processes_phi', { test: 'boolean' }),
  scope('Does the platform receive electronic health records from clinics?', 'data.processes_phi', { test: 'boolean' }),
  scope('Please confirm that you do not store PHI.', 'data.processes_phi', { test: 'boolean', negated: true }),
  scope('Will ePHI be transmitted to your systems? (Y/N)', 'data.processes_phi', { test: 'boolean' }),
  // Cardholder
  scope('Do you store, process or transmit cardholder data?', 'data.processes_cardholder_data', { test: 'boolean' }),
  scope('Does the application accept credit card payments?', 'data.processes_cardholder_data', { test: 'boolean' }),
  scope('Will payment card numbers pass through your servers?', 'data.processes_cardholder_data', { test: 'boolean' }),
  scope('Does your solution handle debit card data?', 'data.processes_cardholder_data', { test: 'boolean' }),
  scope('Is the service in scope for PCI DSS?', 'data.processes_cardholder_data', { test: 'boolean' }),
  scope('Do you collect primary account numbers from our customers?', 'data.processes_cardholder_data', { test: 'boolean' }),
  scope('Is PCI applicable to the product?', 'data.processes_cardholder_data', { test: 'boolean' }),
  // Biometric
  scope('Do you collect biometric data from users?', 'data.processes_biometric_data', { test: 'boolean' }),
  scope('Does the app capture fingerprints?', 'data.processes_biometric_data', { test: 'boolean' }),
  scope('Will the system store facial recognition templates?', 'data.processes_biometric_data', { test: 'boolean' }),
  scope('Does the product process voiceprints of callers?', 'data.processes_biometric_data', { test: 'boolean' }),
  scope('Is biometric information of students gathered by the platform?', 'data.processes_biometric_data', { test: 'boolean' }),
  // Student records
  scope('Will the service store student records?', 'data.processes_student_records', { test: 'boolean' }),
  scope('Is FERPA applicable to this service?', 'data.processes_student_records', { test: 'boolean' }),
  // Countries
  scope('Is customer data stored in China?', 'data.storage_countries', { test: 'contains', country: 'China', polarity: 'risk' }),
  scope('Will any of our data be hosted in mainland China?', 'data.storage_countries', { test: 'contains', country: 'China', polarity: 'risk' }),
  scope('Is data processed in the PRC at any point?', 'data.storage_countries', { test: 'contains', country: 'China', polarity: 'risk' }),
  scope('Are backups kept in Russia?', 'data.storage_countries', { test: 'contains', country: 'Russia', polarity: 'risk' }),
  scope('Do you store customer data in the United States?', 'data.storage_countries', { test: 'contains', country: 'United States', polarity: 'normal' }),
  scope('Is our data hosted in the US?', 'data.storage_countries', { test: 'contains', country: 'United States' }),
  scope('Will data be transferred to the USA?', 'data.storage_countries', { test: 'contains', country: 'United States' }),
  scope('Is data replicated to the UK?', 'data.storage_countries', { test: 'contains', country: 'United Kingdom' }),
  scope('Are your servers located in Germany?', 'data.storage_countries', { test: 'contains', country: 'Germany' }),
  scope('Do you use data centers in India?', 'data.storage_countries', { test: 'contains', country: 'India' }),
  scope('Is personal data collected in Brazil stored in Brazil?', 'data.storage_countries', { test: 'contains', country: 'Brazil' }),
  scope('Is customer data stored within the European Union?', 'data.storage_countries', { test: 'contains', country: 'European Union' }),
  scope('Is any data stored in the EU?', 'data.storage_countries', { test: 'contains', country: 'European Union' }),
  scope('Is any customer data stored outside the EU?', 'data.storage_countries', {
    test: 'contains',
    country: 'European Union',
    negated: true,
    polarity: 'risk',
  }),
  scope('Will personal data ever leave the EEA?', 'data.storage_countries', {
    test: 'contains',
    country: 'European Economic Area',
    negated: true,
    polarity: 'risk',
  }),
  scope('Are any backups kept outside of the United States?', 'data.storage_countries', { test: 'contains', country: 'United States', negated: true }),
  scope('Is data stored only in the EU?', 'data.storage_countries', { test: 'contains', country: 'European Union', quantifier: 'all', polarity: 'normal' }),
  scope('Is all customer data hosted exclusively in Canada?', 'data.storage_countries', { test: 'contains', country: 'Canada', quantifier: 'all' }),
  scope('Does customer data remain within the EEA at all times?', 'data.storage_countries', {
    test: 'contains',
    country: 'European Economic Area',
    quantifier: 'all',
  }),
  scope('Confirm that customer data never leaves Australia.', 'data.storage_countries', {
    test: 'contains',
    country: 'Australia',
    quantifier: 'all',
    polarity: 'normal',
  }),
  scope('Please confirm data is never stored in China.', 'data.storage_countries', {
    test: 'contains',
    country: 'China',
    negated: true,
    quantifier: 'all',
    polarity: 'normal',
  }),
  scope('When data is backed up, is it stored in Singapore?', 'data.storage_countries', { test: 'contains', country: 'Singapore' }),
  scope('Do you operate US-based data centers?', 'data.storage_countries', { test: 'contains', country: 'United States' }),
  scope('Will our data be stored in Hong Kong?', 'data.storage_countries', { test: 'contains', country: 'Hong Kong' }),
  scope('Is data hosted in North America?', 'data.storage_countries', { test: 'contains', country: 'North America' }),
  scope('Data stored in the UK (Y/N)', 'data.storage_countries', { test: 'contains', country: 'United Kingdom' }),
  // Providers and certifications (membership on other lists)
  scope('Is the service hosted on AWS?', 'hosting.providers', { test: 'contains', value: 'aws' }),
  scope('Does the platform run on Microsoft Azure?', 'hosting.providers', { test: 'contains', value: 'azure' }),
  scope('Is your infrastructure hosted with Google Cloud?', 'hosting.providers', { test: 'contains', value: 'gcp' }),
  scope('Are you ISO 27001 certified?', 'compliance.certifications', { test: 'contains', value: 'ISO 27001' }),
  scope('Do you hold a current SOC 2 Type II report?', 'compliance.certifications', { test: 'contains', value: 'SOC 2' }),
  scope('Is your organization certified against ISO/IEC 27701?', 'compliance.certifications', { test: 'contains', value: 'ISO 27701' }),
  // Services
  scope('Do you offer an on-premises deployment?', 'services.on_premises_option', { test: 'boolean' }),
  scope('Is the product available as a self-hosted installation?', 'services.on_premises_option', { test: 'boolean' }),
  scope("Can the software be installed on the customer's own servers?", 'services.on_premises_option', { test: 'boolean' }),
  scope('Is there an on-prem version of the platform?', 'services.on_premises_option', { test: 'boolean' }),
  scope('Is the product offered only as SaaS?', 'services.on_premises_option', { test: 'boolean', negated: true }),
  scope('Do you offer single-tenant hosting?', 'services.single_tenant_option', { test: 'boolean' }),
  scope('Can we get a dedicated instance of the application?', 'services.single_tenant_option', { test: 'boolean' }),
  scope('Is a single tenant deployment option available?', 'services.single_tenant_option', { test: 'boolean' }),
  scope('Do you provide consulting services?', 'services.offers_consulting', { test: 'boolean' }),
  scope('Will your professional services team perform the implementation?', 'services.offers_consulting', { test: 'boolean' }),
  scope('Does the engagement include consultancy work on our premises?', 'services.offers_consulting', { test: 'boolean' }),
  scope('Do you offer implementation services?', 'services.offers_consulting', { test: 'boolean' }),
  // AI
  scope('Does the product use artificial intelligence?', 'ai.product_uses_ai', { test: 'boolean', polarity: 'normal' }),
  scope('Does your solution incorporate machine learning models?', 'ai.product_uses_ai', { test: 'boolean' }),
  scope('Is the service powered by a large language model?', 'ai.product_uses_ai', { test: 'boolean' }),
  scope('Does the platform include generative AI features?', 'ai.product_uses_ai', { test: 'boolean' }),
  scope('Does the application rely on LLMs to draft responses?', 'ai.product_uses_ai', { test: 'boolean' }),
  scope('Do you use customer data to train AI models?', 'ai.trains_on_customer_data', { test: 'boolean', polarity: 'risk' }),
  scope('Is client content used for training machine learning models?', 'ai.trains_on_customer_data', { test: 'boolean', polarity: 'risk' }),
  scope('Will our prompts be used to fine-tune your models?', 'ai.trains_on_customer_data', { test: 'boolean', polarity: 'risk' }),
  scope('Do you improve your algorithms using customer data?', 'ai.trains_on_customer_data', { test: 'boolean', polarity: 'risk' }),
  scope('Confirm that customer data is never used to train models.', 'ai.trains_on_customer_data', { test: 'boolean', negated: true, polarity: 'normal' }),
  // Breach
  scope('Have you had a reportable data breach in the last three years?', 'incidents.reportable_breach_last_36_months', {
    test: 'boolean',
    months: 36,
    polarity: 'risk',
  }),
  scope('Has your company experienced a data breach in the past 36 months?', 'incidents.reportable_breach_last_36_months', { months: 36, polarity: 'risk' }),
  scope('Have you suffered a breach of customer data within the last 2 years?', 'incidents.reportable_breach_last_36_months', { months: 24, polarity: 'risk' }),
  scope('Has the organization been breached in the previous 12 months?', 'incidents.reportable_breach_last_36_months', { months: 12, polarity: 'risk' }),
  scope('Were you compromised in the last year?', 'incidents.reportable_breach_last_36_months', { months: 12, polarity: 'risk' }),
  scope('Any data breaches in the past 18 months? (Y/N)', 'incidents.reportable_breach_last_36_months', { months: 18, polarity: 'risk' }),
  // Comparisons
  scope('Is your RTO 24 hours or less?', 'bcdr.rto_hours', { test: 'compare', op: '<=', number: 24, unit: 'hours' }),
  scope('Is the recovery time objective under 4 hours?', 'bcdr.rto_hours', { test: 'compare', op: '<', number: 4, unit: 'hours' }),
  scope('Is your RTO no more than two days?', 'bcdr.rto_hours', { test: 'compare', op: '<=', number: 48, unit: 'hours' }),
  scope('Is your RTO at least 30 minutes?', 'bcdr.rto_hours', { test: 'compare', op: '>=', number: 0.5, unit: 'hours' }),
  scope('Can you restore the service within 8 hours of a disaster?', 'bcdr.rto_hours', { test: 'compare', op: '<=', number: 8, unit: 'hours' }),
  scope('Is your RPO under 1 hour?', 'bcdr.rpo_minutes', { test: 'compare', op: '<', number: 60, unit: 'minutes' }),
  scope('Is the recovery point objective 15 minutes or less?', 'bcdr.rpo_minutes', { test: 'compare', op: '<=', number: 15, unit: 'minutes' }),
  scope('Is the RPO less than a day?', 'bcdr.rpo_minutes', { test: 'compare', op: '<', number: 1440, unit: 'minutes' }),
  scope('Would we lose no more than 4 hours of data in a disaster?', 'bcdr.rpo_minutes', { test: 'compare', op: '<=', number: 240, unit: 'minutes' }),
  scope('Do you have more than 250 employees?', 'company.employee_count', { test: 'compare', op: '>', number: 250 }),
  scope('Does your company have at least 1,000 staff?', 'company.employee_count', { test: 'compare', op: '>=', number: 1000 }),
  scope('Do you guarantee 99.9% uptime?', 'services.uptime_sla_percent', { test: 'compare', op: '>=', number: 99.9 }),
  scope('Will you notify us of a breach within 72 hours?', 'incidents.notification_hours', { test: 'compare', op: '<=', number: 72, unit: 'hours' }),
  scope('Do you perform penetration tests at least annually?', 'pentest.frequency', { test: 'compare', op: '>=', number: 1, unit: 'per_year' }),
  scope('Is a third-party pen test carried out every quarter?', 'pentest.frequency', { test: 'compare', op: '>=', number: 4, unit: 'per_year' }),
  scope('Do you test the disaster recovery plan annually?', 'bcdr.dr_test_frequency', { test: 'compare', op: '>=', number: 1 }),
  scope('Is security awareness training given to all staff every year?', 'people.security_training_frequency', { test: 'compare', number: 1 }),
  // Other profile booleans
  scope('Do you carry cyber liability insurance?', 'company.cyber_insurance', { test: 'boolean' }),
  scope('Do you run a bug bounty program?', 'pentest.vulnerability_disclosure_program', { test: 'boolean' }),
  scope('Can customers choose the region where their data is stored?', 'data.customer_selects_region', { test: 'boolean' }),
  scope('Does the product support SAML single sign-on?', 'services.supports_sso', { test: 'boolean' }),
  scope('Do you support customer-managed encryption keys?', 'data.customer_managed_keys', { test: 'boolean' }),
  scope('Do you perform background checks on new hires?', 'people.background_checks', { test: 'boolean' }),
  // Yes/No list with a scope wording
  scope('Will you process cardholder data for us?', 'data.processes_cardholder_data', { test: 'boolean' }, YNNA),
];

const riskCases: Case[] = [
  risk('Have there been any violations of your privacy policy in the past two years?'),
  risk('Will our records be used for any purpose other than delivering the service, such as marketing?'),
  risk('Will client records be stored in or accessed from China?'),
  risk('Do you engage subcontractors located in Russia?'),
  risk('Is client data ever processed offshore?'),
  risk("Is any data stored in a country outside the customer's home jurisdiction?"),
  risk('Are there currently any exceptions granted to the encryption standard?'),
  risk('Do you permit staff to install unapproved software?'),
  risk('Do you allow weak passwords for service accounts?'),
  risk('Do you log user passwords?'),
  risk('Are full card numbers written to application logs?'),
  risk('Are administrator privileges granted to all engineers?'),
  risk('Do all employees have local admin rights on their workstations?'),
  risk('Are any servers missing critical security patches?'),
  risk('Do you run end-of-life databases, and if so, how is the risk handled?'),
  risk('Do you support MD5 for password hashing?'),
  risk('Have you had any unplanned outages in the past year?'),
  risk('Were there any findings in your last external audit?'),
  risk('Does your team share one admin account for the load balancer?'),
  risk('Are there any hard-coded passwords in your applications?'),
  risk('Do any scripts contain embedded credentials?'),
  risk('Are API keys stored in the source code?'),
  risk('Are service account passwords kept in plain text configuration files?'),
  risk('Are secrets committed to your Git repositories?'),
  risk('Do your applications use hardcoded tokens to call internal services?'),
  risk('Are database credentials stored in clear text?'),
  risk('Do administrators use shared accounts?'),
  risk('Are generic admin accounts used on production servers?'),
  risk('Is a common root login used by the operations team?'),
  risk('Do team members share passwords for the support mailbox?'),
  risk('Are group user IDs in use anywhere in the environment?'),
  risk('Are default passwords still in use on network devices?'),
  risk('Do any systems run with default vendor credentials unchanged?'),
  risk('Is there any default admin account left on your appliances?'),
  risk('Do you sell customer data to third parties?', { factKey: 'data.sells_customer_data', test: 'boolean', kind: 'scope' }),
  risk('Is personal information ever sold or rented to data brokers?', { factKey: 'data.sells_customer_data', kind: 'scope' }),
  risk('Do you share user data with partners for advertising?', { factKey: 'data.shares_with_third_parties_for_marketing', kind: 'scope' }),
  risk('Is customer information used for targeted ads?', { factKey: 'data.shares_with_third_parties_for_marketing', kind: 'scope' }),
  risk('Do you monetize data collected through the service?', { factKey: 'data.sells_customer_data', kind: 'scope' }),
  risk('Are any end-of-life operating systems in use?'),
  risk('Do you run unsupported software in production?'),
  risk('Is any software no longer supported by its vendor still deployed?'),
  risk('Are legacy systems without vendor support connected to the network?'),
  risk('Are there unpatched critical vulnerabilities on internet-facing hosts?'),
  risk('Do you currently have open high-severity vulnerabilities?'),
  risk('Are there known vulnerabilities older than 90 days?'),
  risk('Is production data used in test environments?'),
  risk('Do developers copy live customer data to staging systems?'),
  risk('Is real customer data used for QA purposes?'),
  risk('Can employees access company email from personal devices?'),
  risk('Do staff use their own laptops for work?'),
  risk('Is BYOD permitted for engineers?'),
  risk('Are there any exceptions to your password policy?'),
  risk('Have any waivers been granted against the security baseline?'),
  risk('Are deviations from the encryption standard currently approved?'),
  risk('Have you ever failed a security audit?'),
  risk('Did your last SOC 2 report include a qualified opinion?'),
  risk('Are there any open audit findings?'),
  risk('Do you have outstanding findings from the last penetration test?'),
  risk('Were any major nonconformities raised at your last ISO audit?'),
  risk('Has your company been fined by a data protection authority?'),
  risk('Is your organization the subject of litigation related to privacy?'),
  risk('Have you ever had a data breach?', { stripped: 'Have you ever had a data breach?' }),
  // Five years hold the fact's 36 months: a true fact answers it, a false one does not.
  scope('Have you experienced a security breach in the last five years?', 'incidents.reportable_breach_last_36_months', { months: 60, polarity: 'risk' }),
  risk('Has there been a security incident affecting customers in the past year?'),
  risk('Is any customer data transmitted unencrypted?'),
  risk('Can staff access production without MFA?'),
  // The missing protection may itself be a preventive word ("approval", "review", "screening").
  risk('Do contractors get production access without any background screening?'),
  risk('Can changes reach production without review?'),
  risk('Is access granted without approval?'),
  risk('Is Telnet enabled on any network device?'),
  risk('Do you still allow TLS 1.0 connections?'),
  risk('Are customer files kept indefinitely after the contract ends?'),
  risk('Is there any single point of failure in the service architecture?'),
  risk('Are passwords stored using reversible encryption?'),
  risk('Hard-coded credentials present in firmware', {}, YN),
  risk('If an audit found issues, are there any open findings today?'),
];

const negativeCases: Case[] = [
  practice('Do you have on-premises servers in your office?'),
  { text: 'Are policies for the shared security responsibility model approved and published?', expect: { kind: 'practice', yesNo: true, customerSide: false } },
  practice('Will the consultant need a badge to enter our offices?'),
  practice('Does your solution use ML, or do you plan to add it this year?'),
  practice('Can users opt out of AI features?'),
  practice('Do you test your LLM features against prompt injection?'),
  practice('Do staff (or contractors) have access to customer data (e.g., PHI or payment data) in any way?'),
  practice('Is a SOC 2 report available for the hosting environment?'),
  practice('Are exceptions to policy documented and approved?'),
  practice('Is password sharing prohibited?'),
  practice('Do you disable default accounts on new servers?'),
  practice('Are vendor-supplied defaults changed before installation?'),
  practice('Do you use AI tools internally?'),
  practice('Do your developers use an AI coding assistant?'),
  practice('Are card numbers masked in logs?'),
  practice('Is SSL v3 disabled?'),
  practice('Do you use TLS 1.2 or higher for all connections?'),
  practice('Will you sign a business associate agreement?'),
  practice('Have you been audited in the last 12 months?'),
  free('How do you ensure data is not transferred to China?'),
  free('What is your approach to data residency?'),
  free('If customer data is stored outside the EU, what safeguards apply?'),
  // Practices that mention a risk topic but ask for the control.
  practice('Do you store passwords hashed?'),
  practice('Are user passwords salted and hashed with a modern algorithm?'),
  practice('Is there a process to remove hard-coded secrets?'),
  practice('Do you scan source code for embedded credentials?'),
  practice('Are secrets managed in a vault rather than hard-coded?'),
  practice('Do you prohibit shared accounts?'),
  practice('Are shared accounts prevented by technical controls?'),
  practice('Are default passwords changed before systems go live?'),
  practice('Is there a procedure to disable default accounts?'),
  practice('Do you have a policy that forbids selling customer data?'),
  practice('Do you have a process to identify end-of-life software?'),
  practice('Do you have a process to prevent access without approval?'),
  practice('Do you replace unsupported systems within six months?'),
  practice('Do you patch critical vulnerabilities within 14 days?'),
  practice('Are critical vulnerabilities tracked to remediation?'),
  practice('Is production data masked before use in test environments?'),
  practice('Do you prohibit the use of production data in testing?'),
  practice('Are personal devices enrolled in MDM before accessing email?'),
  practice('Do you have a BYOD policy?'),
  practice('Is there a documented process for approving exceptions to policy?'),
  practice('Do you track audit findings to closure?'),
  practice('Do you have a breach notification process?'),
  practice('Do you have an incident response plan for data breaches?'),
  practice('Is there a plan for responding to ransomware?'),
  // Practices that mention a scope topic but ask for a control.
  practice('Do you have a policy for China data transfers?'),
  practice('Is PHI encrypted at rest?'),
  practice('Do you have procedures for handling cardholder data?'),
  practice('Are you PCI DSS compliant?'),
  practice('Are you HIPAA compliant?'),
  practice('Do you use biometric authentication for data center entry?'),
  practice('Do you use fingerprint readers to unlock laptops?'),
  practice('Do you have an AI governance policy?'),
  practice('Do you use machine learning to detect fraud on accounts?'),
  practice('Can customers opt out of having their data used for model training?'),
  practice('Is there a process to prevent customer data from being used for training?'),
  practice('Do you have standard contractual clauses for transfers to the US?'),
  practice('Can customer data be stored in the EU on request?'),
  practice('Do you comply with GDPR when transferring data to the US?'),
  practice('Do you have support staff in India?'),
  practice('Do you secure your on-premises servers with EDR?'),
  practice('Is the platform multi-tenant?'),
  practice('Do you screen your consultants before they access client systems?'),
  practice('Do you test your RTO?'),
  practice('Are recovery objectives documented for each system?'),
  practice('Do you use AWS KMS for key management?'),
  practice('Do employees sign in with Google Workspace accounts?'),
  practice('Are you planning to obtain ISO 27001 certification?'),
  practice("Do you review your subprocessors' SOC 2 reports?"),
  practice('Do you perform penetration tests?'),
  practice('Do you keep an inventory of the countries where data is stored?'),
  practice('Do you notify customers of breaches?'),
  practice('Are incident notifications sent to customers by email?'),
  // Free text that mentions scope or risk topics.
  free('Describe how you handle cardholder data.'),
  free('Explain how PHI is protected in transit.'),
  free('Describe the controls that keep hard-coded secrets out of the code base.'),
  free('How do you decide which countries data may be stored in?'),
  free('Describe your approach to AI governance.'),
  free('Explain what happens if a breach occurs.'),
  free('How do you manage shared accounts that cannot be avoided?'),
  free('What is your process for patching critical vulnerabilities?'),
  free('Please describe your on-premises deployment architecture.'),
  free('Outline the steps you take when an employee leaves.'),
];

const factCases: Case[] = [
  fact('Your data is stored where?', 'data.storage_countries'),
  fact('2.3 Company name', 'company.legal_name'),
  fact('Roughly how many FTEs work on this kind of testing?', undefined, { shape: 'number' }),
  fact('Please give the e-mail addresses of staff we should contact about security incidents.', 'company.security_contact_email'),
  fact('Name of the person completing this questionnaire', undefined, { shape: 'name' }),
  fact('Title of respondent', undefined, { shape: 'name' }),
  fact('What countries do you store customer data in?', 'data.storage_countries'),
  fact('Which AWS region hosts our tenant?', 'hosting.regions'),
  fact("What is the company's legal entity name?", 'company.legal_name'),
  fact('How many people work for your company?', 'company.employee_count'),
  fact('What is the uptime commitment in your SLA?', 'services.uptime_sla_percent'),
  fact('Company name', 'company.legal_name', { shape: 'name' }),
  fact('Legal name of the vendor', 'company.legal_name'),
  fact('Solution provider name', 'company.legal_name'),
  fact('What is the registered name of your organization?', 'company.legal_name'),
  fact('Please provide the name of your company.', 'company.legal_name'),
  fact('Supplier legal entity name', 'company.legal_name'),
  fact("Confirm your company's legal name.", 'company.legal_name'),
  fact('Headquarters address', 'company.headquarters', { shape: 'address' }),
  fact('Where is your company headquartered?', 'company.headquarters'),
  fact('Head office location', 'company.headquarters'),
  fact('Where are you based?', 'company.headquarters'),
  fact('Principal place of business', 'company.headquarters'),
  fact('Registered office address', 'company.headquarters'),
  fact('Company website', 'company.website', { shape: 'url' }),
  fact('What is the URL of your company website?', 'company.website'),
  fact("Web address of the vendor's home page", 'company.website'),
  fact('Security contact email', 'company.security_contact_email', { shape: 'email' }),
  fact('Email address for reporting security incidents', 'company.security_contact_email'),
  fact('How can researchers report a vulnerability to you?', 'company.security_contact_email'),
  fact('Who should we contact about security issues? Provide an email.', 'company.security_contact_email'),
  fact('Privacy officer contact', 'company.dpo_email'),
  fact('Who is your data protection officer?', 'company.dpo_email'),
  fact('Name of your CISO', 'company.security_officer'),
  fact('Who is responsible for information security in your company?', 'company.security_officer'),
  fact('How many employees do you have?', 'company.employee_count', { shape: 'number' }),
  fact('Number of employees', 'company.employee_count'),
  fact('Total headcount', 'company.employee_count'),
  fact('What is the size of your workforce?', 'company.employee_count'),
  fact('Year founded', 'company.founded_year'),
  fact('How long has your company been in business?', 'company.founded_year'),
  fact('Company registration number', 'company.registration_number'),
  fact('Which cloud providers do you use?', 'hosting.providers', { shape: 'list' }),
  fact('List your hosting providers.', 'hosting.providers'),
  fact('Who hosts the platform?', 'hosting.providers'),
  fact('Name the infrastructure provider(s) for the service.', 'hosting.providers'),
  fact('Where is the solution hosted?', 'hosting.providers'),
  fact('Which AWS regions do you use?', 'hosting.regions'),
  fact('Where are your data centers located?', 'hosting.regions'),
  fact('List the cloud regions the service runs in.', 'hosting.regions'),
  fact('Name all hosting regions in use', 'hosting.regions'),
  fact('In which countries is customer data stored?', 'data.storage_countries'),
  fact('Where will our data be stored?', 'data.storage_countries'),
  fact('Data residency', 'data.storage_countries'),
  fact('What are the storage locations for backups?', 'data.storage_countries'),
  fact('What is your recovery time objective?', 'bcdr.rto_hours', { shape: 'duration' }),
  fact('RTO', 'bcdr.rto_hours'),
  fact('Recovery point objective (RPO)', 'bcdr.rpo_minutes'),
  fact('What RPO do you commit to for the database?', 'bcdr.rpo_minutes'),
  fact('How often do you perform penetration tests?', 'pentest.frequency', { shape: 'frequency' }),
  fact('Penetration testing frequency', 'pentest.frequency'),
  fact('How frequently is the application pen tested by an outside firm?', 'pentest.frequency'),
  fact('When was your last penetration test?', 'pentest.last_date', { shape: 'date' }),
  fact('Date of the most recent pentest', 'pentest.last_date'),
  fact('How often is the disaster recovery plan tested?', 'bcdr.dr_test_frequency'),
  fact('How often do employees take security awareness training?', 'people.security_training_frequency'),
  fact('How quickly will you notify us after discovering a breach?', 'incidents.notification_hours'),
  fact('How long are backups retained?', 'data.backup_retention_days'),
  fact('What is the minimum TLS version accepted?', 'data.min_tls_version'),
  fact('What is your uptime SLA?', 'services.uptime_sla_percent'),
  fact('Which certifications does your company hold?', 'compliance.certifications'),
  fact('Where can we find your privacy policy?', 'company.privacy_policy_url'),
  fact('What are your support hours?', 'services.support_hours'),
  // Fact-shaped with no profile key: still never a pasted statement.
  fact('Contact phone number', undefined, { shape: 'phone' }),
  fact('Primary contact email', undefined, { shape: 'email' }),
  fact('Product name', undefined, { shape: 'name' }),
  fact('List your subprocessors.', undefined, { shape: 'list' }),
  fact('How many data centers do you operate?', undefined, { shape: 'number' }),
  fact('Date the questionnaire was completed', undefined, { shape: 'date' }),
  fact('Link to your trust center', undefined, { shape: 'url' }),
  fact('How many employees have access to production?', undefined, { shape: 'number' }),
];

const freeCases: Case[] = [
  free('Describe your vulnerability management program.'),
  free('Explain how encryption keys are generated and stored.'),
  free('Provide an overview of your network architecture.'),
  free('How do you secure remote work?'),
  free('What is your process for onboarding new vendors?'),
  free('Outline your incident response steps.'),
  free('Summarize the physical security of your offices.'),
  free('Detail the logging you keep for administrator actions.'),
  free('What controls protect customer data from insider threats?'),
  free('How do you review access to production systems?', { shape: 'text' }),
  free('How often are access rights reviewed?', { shape: 'frequency' }),
  free('How long are audit logs retained?', { shape: 'duration' }),
  free('Which tools do you use for static code analysis?', { shape: 'list' }),
  free('Additional comments'),
  free('Encryption at rest'),
  free('Why did you choose your current backup design?'),
  free('Please describe any other security measures not covered above.'),
  free('What encryption algorithms do you use for data at rest?'),
  free('When an incident is declared, how is the customer informed?'),
  free('If you use subprocessors, describe how you assess them.'),
  free('Which of the following, if any, do you use for endpoint protection?'),
];

const optionCases: Case[] = [
  option('Hosting', ['Self-Managed', 'AWS', 'Azure', 'Google Cloud', 'Other'], { factKey: 'hosting.providers', test: 'state' }),
  option('Which cloud provider hosts the service?', ['AWS', 'Azure', 'GCP']),
  option('How often do you perform penetration tests?', ['Monthly', 'Quarterly', 'Annually', 'Never'], { factKey: 'pentest.frequency' }),
  option('Deployment model', ['SaaS', 'On-premises', 'Hybrid']),
  option('Data classification scheme', ['Public/Internal/Confidential', 'Other', 'None']),
  {
    text: 'Does your company use firewalls to restrict traffic?',
    allowedAnswers: ['Yes, we filter all traffic at the perimeter.', 'We do not use firewalls.'],
    expect: { kind: 'option', yesNo: true },
  },
  {
    text: 'Is customer data stored in China?',
    allowedAnswers: ['Yes, in a Chinese region', 'No, never in China', 'Only backups'],
    expect: { kind: 'option', yesNo: true, factKey: 'data.storage_countries', test: 'contains', country: 'China' },
  },
  option('Employee count range', ['1-50', '51-250', '251-1000', '1000+'], { factKey: 'company.employee_count' }),
  option('Penetration testing performed by', ['Internal team', 'External firm', 'Both']),
  option('Authentication methods supported', ['Password', 'SAML', 'OIDC', 'Passkeys']),
];

const customerSideCases: Case[] = [
  practice('Does the customer need to configure MFA themselves?', { customerSide: true }),
  free('Who is responsible for managing user accounts: the customer or the vendor?', { customerSide: true }),
  free('Which responsibilities remain with the institution under this contract?', { customerSide: true }),
  free('What must the customer do to enable audit logging?', { customerSide: true }),
  free('Describe the customer responsibilities for user provisioning.', { customerSide: true }),
  practice('Is the customer responsible for backing up their own exports?', { customerSide: true }),
  free('What do tenants need to configure to restrict IP ranges?', { customerSide: true }),
  free('List the complementary user entity controls expected of clients.', { customerSide: true }),
  free('Explain the shared responsibility model for the platform.', { customerSide: true }),
  practice('Are clients required to manage their own encryption keys?', { customerSide: true }),
  free('Which security settings should the customer enable after onboarding?', { customerSide: true }),
  free('Describe how you protect customer data.', { customerSide: false }),
  practice('Do you notify customers of planned maintenance?', { customerSide: false }),
];

const groups: Record<string, Case[]> = {
  'yes/no forms': yesNoForms,
  scope: scopeCases,
  risk: riskCases,
  'tricky negatives': negativeCases,
  facts: factCases,
  'free text': freeCases,
  options: optionCases,
  'customer side': customerSideCases,
};

const total = Object.values(groups).reduce((n, g) => n + g.length, 0);
t.ok(total >= 300, `at least 300 phrasings (${total})`);

for (const [name, cases] of Object.entries(groups)) {
  t.test(name, async (t) => {
    for (const c of cases) {
      const u = understand({ text: c.text, allowedAnswers: c.allowedAnswers ?? null });
      const e = c.expect;
      const got: Record<string, unknown> = { kind: u.kind, yesNo: u.yesNo };
      const want: Record<string, unknown> = { kind: e.kind, yesNo: e.yesNo };
      if (e.polarity) {
        got.polarity = u.polarity;
        want.polarity = e.polarity;
      }
      const f = u.facts[0];
      if (e.factKey) {
        got.factKey = f?.key;
        want.factKey = e.factKey;
        for (const k of ['test', 'negated', 'country', 'value', 'quantifier', 'op', 'number', 'unit', 'months'] as const) {
          if (e[k] !== undefined) {
            got[k] = f?.[k];
            want[k] = e[k];
          }
        }
        // Unless the row says so, a fact is neither negated nor quantified.
        if (e.negated === undefined && f?.test !== 'state') {
          got.negated = f?.negated ?? false;
          want.negated = false;
        }
      } else if (e.kind === 'practice' || e.kind === 'risk' || e.kind === 'free_text') {
        got.facts = u.facts.map((x) => x.key);
        want.facts = [];
      }
      if (e.parts !== undefined) {
        got.parts = u.parts.length;
        want.parts = e.parts;
      } else if (e.kind !== 'option') {
        got.parts = u.parts.length;
        want.parts = 0;
      }
      if (e.customerSide !== undefined) {
        got.customerSide = u.customerSide;
        want.customerSide = e.customerSide;
      }
      if (e.shape) {
        got.shape = u.answerShape;
        want.shape = e.shape;
      }
      if (e.stripped) {
        got.stripped = u.leadClauseStripped;
        want.stripped = e.stripped;
      }
      t.same(got, want, c.text);
    }
  });
}

t.test('allowed answers: which value means yes, no, partial, n/a', async (t) => {
  t.same(allowedMeaning(['Yes', 'No']), { values: ['Yes', 'No'], yes: 'Yes', no: 'No', yesNoOnly: true, yesNoList: true });
  const a = allowedMeaning(['Y', 'N', 'Partially', 'NA', ' '])!;
  t.same([a.yes, a.no, a.partial, a.na, a.yesNoOnly, a.yesNoList], ['Y', 'N', 'Partially', 'NA', false, true]);
  t.same(a.values, ['Y', 'N', 'Partially', 'NA'], 'blanks dropped, values verbatim');
  const c = allowedMeaning(['Compliant', 'Non-compliant', 'In progress', 'Not applicable'])!;
  t.same([c.yes, c.no, c.partial, c.na, c.yesNoList], ['Compliant', 'Non-compliant', 'In progress', 'Not applicable', true]);
  const tf = allowedMeaning(['True', 'False', ''])!;
  t.ok(tf.yesNoOnly && tf.yesNoList, 'a blank in the list does not make it an option list');
  const o = allowedMeaning(['AWS', 'Azure', 'Yes'])!;
  t.notOk(o.yesNoList, 'one non yes/no value makes an option list');
  const v = allowedMeaning(['Yes, quarterly and after major changes', 'We do not test', 'Only some systems'])!;
  t.same([v.yes, v.no, v.yesNoList], ['Yes, quarterly and after major changes', 'We do not test', false], 'option sentences that stand for yes and no');
  t.equal(allowedMeaning([]), undefined);
  t.equal(allowedMeaning(null), undefined);
  t.equal(allowedMeaning(['', '  ']), undefined);
  t.notOk(allowedMeaning(['N/A'])!.yesNoList, 'n/a alone is not a yes/no list');
  const u = understand({ text: 'Encryption at rest', allowedAnswers: ['Yes', 'No', 'Partial'] });
  t.equal(u.allowed?.partial, 'Partial');
  t.notOk(u.allowed?.yesNoOnly);
});

t.test('parts', async (t) => {
  t.same(splitParts('Do you (a) log access, (b) alert on failures, and (c) keep logs for a year?'), [
    'log access',
    'alert on failures',
    'keep logs for a year?',
  ]);
  t.same(splitParts('a) Is MFA enforced? b) Is SSO available?'), ['Is MFA enforced?', 'Is SSO available?']);
  t.same(splitParts('Do you: 1) patch monthly; 2) scan weekly'), ['patch monthly', 'scan weekly']);
  t.same(splitParts('Is data encrypted (AES-256) at rest (Y/N)?'), [], 'parentheses that are not part markers');
  t.same(splitParts('Do you follow section (b) of the contract?'), [], 'a lone (b) is not a list');
  t.same(splitParts('Describe (a) the process.'), [], 'one part is no parts');
});

t.test('lead clauses and imperatives are stripped', async (t) => {
  t.equal(stripLead('When a laptop is lost, do you wipe it remotely?'), 'Do you wipe it remotely?');
  t.equal(stripLead('Please confirm that backups are encrypted (Y/N)'), 'Backups are encrypted');
  t.equal(stripLead('Indicate whether MFA is enforced for all users.'), 'MFA is enforced for all users.');
  t.equal(stripLead('If yes, please describe the process.'), 'Describe the process.');
  t.equal(stripLead('Yes/No: Logs are reviewed daily.'), 'Logs are reviewed daily.');
  t.equal(stripLead('Do you rotate keys?'), 'Do you rotate keys?', 'nothing to strip');
  t.equal(stripLead('For all staff, including contractors, is training mandatory?'), 'Is training mandatory?');
});

t.test('yes/no wording is recognised anywhere, open questions are not', async (t) => {
  for (const q of [
    'Backups tested (Y/N)',
    'Our admins, do they use MFA?',
    'Is encryption used?',
    'Patching: do you follow a schedule?',
    'Please attest that staff are trained.',
  ])
    t.ok(asksYesNo(q), q);
  for (const q of [
    'How do you rotate keys?',
    'What is your RTO?',
    'Which, if any, do you use?',
    'Describe your SDLC.',
    'Company name',
    'List your subprocessors',
  ])
    t.notOk(asksYesNo(q), q);
});

t.test('frequencies in a year', async (t) => {
  t.equal(frequencyPerYear('Annually'), 1);
  t.equal(frequencyPerYear('twice a year'), 2);
  t.equal(frequencyPerYear('Quarterly'), 4);
  t.equal(frequencyPerYear('monthly scans'), 12);
  t.equal(frequencyPerYear('every 6 months'), 2);
  t.equal(frequencyPerYear('every two years'), 0.5);
  t.equal(frequencyPerYear('continuous'), 365);
  t.equal(frequencyPerYear('ad hoc'), undefined);
});

t.test('the place table is injectable and the seed table works', async (t) => {
  const places: PlaceTable = { countries: { Atlantis: ['Lost Continent'] }, groups: { 'Nordic Union': { aliases: ['NU zone'], members: ['Sweden'] } } };
  const a = understand({ text: 'Is any data stored in the Lost Continent?' }, { places });
  t.same(a.facts[0], { key: 'data.storage_countries', test: 'contains', country: 'Atlantis' });
  t.equal(understand({ text: 'Is any data stored in the Lost Continent?' }).kind, 'practice', 'unknown place without the table: no fact');
  const b = understand({ text: 'Does data stay inside the NU zone?' }, { places });
  t.same(b.facts[0], { key: 'data.storage_countries', test: 'contains', country: 'Nordic Union', quantifier: 'all' });
  const seed = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../../../seeds/cloud-regions.json'), 'utf8')) as PlaceTable;
  t.equal(understand({ text: 'Will our records be hosted in Czechia?' }, { places: seed }).facts[0]?.country, 'Czechia');
  t.equal(understand({ text: 'Is data stored in the Czech Republic?' }, { places: seed }).facts[0]?.country, 'Czechia');
  t.equal(understand({ text: 'Is data stored in mainland China?' }, { places: seed }).facts[0]?.country, 'China');
  t.equal(understand({ text: 'Is it stored in the Netherlands?' }, { places: seed }).facts[0]?.country, 'Netherlands');
  // Two-letter codes are ordinary words in running text: "in", "it", "no" are not countries.
  const words = understand({ text: 'Is it possible that data is stored in it or not?' }, { places: seed });
  t.same(words.facts, []);
  t.equal(understand({ text: 'Do you keep copies in the US?' }, { places: seed }).facts[0]?.country, 'United States');
});

t.test('section and empty input do not break understanding', async (t) => {
  const u = understand({ text: '   ', section: 'General', allowedAnswers: null });
  t.equal(u.kind, 'free_text');
  t.equal(u.yesNo, false);
  t.same(u.parts, []);
  t.equal(understand({ text: 'Do\u00a0you\u2019re-use passwords\u2014ever?' }).yesNo, true, 'odd spacing and quotes are normalised');
});

// Buyer questionnaires of the real world (read here, never copied): every CAIQ question is a
// yes/no and none is taken for a fact; the VSAQ radio items with offered answers are options.
t.test('real questionnaires: CAIQ questions are yes/no, VSAQ radio items are options', async (t) => {
  const dir = path.join(import.meta.dirname, '../../../../shared/data');
  const caiq = path.join(dir, 'csa/caiq-v4.0.3.csv');
  if (!fs.existsSync(caiq)) {
    t.pass('reference data not present');
    return;
  }
  const { parse } = await import('csv-parse/sync');
  const rows = parse(fs.readFileSync(caiq), { columns: true }) as Array<Record<string, string>>;
  const questions = rows.map((r) => r['CAIQ_Consensus Assessments Question'] ?? '').filter((q) => q.trim());
  const notYesNo = questions.filter((q) => !understand({ text: q }).yesNo);
  t.same(notYesNo, [], `${questions.length} CAIQ questions are yes/no`);
  const vsaq = parse(fs.readFileSync(path.join(dir, 'vsaq/vsaq-questions-flat.csv')), { columns: true }) as Array<Record<string, string>>;
  const radios = vsaq.filter((r) => r.type === 'radiogroup' && r.text && r.choices);
  t.ok(radios.length > 10);
  const wrong = radios
    .filter((r) => {
      const u = understand({ text: r.text!, allowedAnswers: r.choices!.split(' | ') });
      // "Yes | No" radios are yes/no questions; radios of sentences are options.
      return u.allowed?.yesNoList ? u.kind === 'option' || !u.yesNo : u.kind !== 'option';
    })
    .map((r) => r.id);
  t.same(wrong, [], 'radio items are options unless their choices are a Yes/No list');
});
