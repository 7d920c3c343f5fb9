import type { App } from '../../src/app.js';
import type { Tenant } from './app.js';

/** PUT, GET and DELETE on the profile API as a tenant, with an optional If-Match. */
export function profileClient(app: App) {
  const put = (who: Tenant, key: string, body: object, ifMatch?: string) =>
    app.inject({
      method: 'PUT',
      url: `/api/v1/profile/facts/${key}`,
      headers: { ...who.auth, ...(ifMatch !== undefined ? { 'if-match': ifMatch } : {}) },
      payload: body,
    });
  const get = (who: Tenant, url: string) => app.inject({ method: 'GET', url: `/api/v1${url}`, headers: who.auth });
  const del = (who: Tenant, key: string, ifMatch?: string) =>
    app.inject({ method: 'DELETE', url: `/api/v1/profile/facts/${key}`, headers: { ...who.auth, ...(ifMatch !== undefined ? { 'if-match': ifMatch } : {}) } });
  return { put, get, del };
}
