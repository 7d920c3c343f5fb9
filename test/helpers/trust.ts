import type { App } from '../../src/app.js';
import type { Tenant } from './app.js';
import { multipart } from './multipart.js';

/**
 * Publishes the tenant's trust page with one NDA document, has a prospect request access and
 * approves it: returns the grant and the path of its page (where prospects upload questionnaires).
 */
export async function prospectGrant(app: App, tenant: Tenant, prospect = { name: 'Pat Buyer', email: 'pat@buyer.example.com', company: 'Buyer Inc' }) {
  const page = await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: tenant.auth, payload: { published: true } });
  if (page.statusCode !== 200) throw new Error(`trust page: ${page.statusCode} ${page.body}`);
  const doc = multipart({ title: 'SOC 2 report', visibility: 'nda' }, [{ filename: 'soc2.txt', content: 'report', contentType: 'text/plain' }]);
  const created = await app.inject({ method: 'POST', url: '/api/v1/documents', headers: { ...tenant.auth, ...doc.headers }, payload: doc.payload });
  if (created.statusCode !== 201) throw new Error(`document: ${created.statusCode} ${created.body}`);
  const req = await app.inject({ method: 'POST', url: `/api/v1/public/trust/${tenant.slug}/access-requests`, payload: { ...prospect, ndaAccepted: true } });
  const approved = await app.inject({
    method: 'POST',
    url: `/api/v1/access-requests/${req.json().id}/approve`,
    headers: tenant.auth,
    payload: { expiresInDays: 7 },
  });
  if (approved.statusCode !== 200) throw new Error(`approve: ${approved.statusCode} ${approved.body}`);
  const grant = approved.json() as { grantId: string; url: string; expiresAt: string };
  return { grant, base: new URL(grant.url).pathname };
}
