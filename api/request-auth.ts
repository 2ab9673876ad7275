/**
 * Who sends a request, decided once in onRequest: an API key in the Authorization or
 * X-API-Key header (machines; wins when both are present), else the session cookie of a
 * signed-in user, else nobody (open data only). A cookie-authenticated request that may
 * change something must prove it comes from this service's own page (api/sessions.ts).
 */
import type { FastifyRequest } from 'fastify';
import { presentedKey, type KeyVerifier } from './auth.js';
import { HttpError } from './errors.js';
import { csrfTokenMatches, fromOwnOrigin, SESSION_COOKIE, type SessionStore } from './sessions.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export async function authenticateRequest(request: FastifyRequest, deps: { keys: KeyVerifier; sessions: SessionStore; publicUrl: string | null }): Promise<void> {
  const key = presentedKey(request);
  if (key !== null) {
    const principal = await deps.keys.verify(key);
    if (!principal) throw new HttpError(401, 'STADTFUNK_ERR_BAD_KEY', 'this API key is unknown or revoked');
    request.principal = principal;
    return;
  }
  const token = request.cookies?.[SESSION_COOKIE];
  if (!token) return;
  // The web app's files and Leaflet are public and many: no session lookup for each of them.
  if (request.url.startsWith('/app/') || request.url.startsWith('/vendor/')) return;
  const found = await deps.sessions.resolve(token);
  // An expired or ended session is no principal, not an error: open data still answers,
  // and GET /api/v1/session tells the page to show sign-in.
  if (!found) return;
  if (!SAFE_METHODS.has(request.method)) {
    if (!fromOwnOrigin(request, deps.publicUrl)) {
      throw new HttpError(403, 'STADTFUNK_ERR_CROSS_ORIGIN', 'a signed-in change must come from this service\'s own pages');
    }
    if (!csrfTokenMatches(request, found.session.csrfToken)) {
      throw new HttpError(403, 'STADTFUNK_ERR_CSRF', 'send the X-CSRF-Token header from GET /api/v1/session with changes made by a signed-in browser (API keys need none)');
    }
  }
  request.session = found.session;
  request.principal = { keyId: null, userId: found.user.userId, name: found.user.username ?? found.user.displayName, role: found.user.role, via: 'session' };
}
