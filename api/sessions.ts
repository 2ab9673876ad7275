/**
 * Browser sessions of users: a random token in an HttpOnly, Secure, SameSite=Strict
 * cookie; the database keeps only its SHA-256, so a copy of the table signs no one in.
 * A session ends when unused for `idleTimeoutS` (last use is written at most once a
 * minute, so it may end up to a minute early) or `maxAgeS` after sign-in, whichever
 * comes first; on sign-out; for all of a user's browsers on "sign out everywhere"; and
 * when an admin disables the user.
 *
 * Cookies use the `__Host-` prefix: the browser keeps them only if they are Secure, for
 * path `/` and without a Domain, so no other host of the city's domain can plant or
 * overwrite one. Chromium treats http://localhost and http://127.0.0.1 as secure, so the
 * embedded default works without TLS; elsewhere the service must be reached by https
 * (directly or through a TLS proxy), which sign-in checks and says.
 *
 * CSRF: a cookie rides along with any request the browser makes, so a request that
 * changes something with cookie authentication must also carry `X-CSRF-Token`, an HMAC
 * of the session token only this origin's script can learn (GET /api/v1/session), and
 * must not come from another origin (Origin / Sec-Fetch-Site). API keys in a header are
 * never sent by a browser on its own and need neither.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { deleteSession, deleteUserSessions, insertSession, selectActiveSession, touchSession, type Role } from '../storage/index.js';
import { isLoopbackHost } from '../auth-config.js';

export const SESSION_COOKIE = '__Host-stadtfunk-session';
/** Marks a browser that signed in as a user before (api/sign-in.ts). */
export const DEVICE_COOKIE = '__Host-stadtfunk-device';
/** An OpenID Connect sign-in in progress (api/oidc-routes.ts); Lax, as it must come back from the provider's site. */
export const OIDC_FLOW_COOKIE = '__Host-stadtfunk-oidc';
export const CSRF_HEADER = 'x-csrf-token';

/** Last use is written when older than this, not on every request. */
const TOUCH_AFTER_S = 60;

export interface SessionInfo {
  tokenHash: Buffer;
  userId: string;
  displayName: string;
  via: 'password' | 'oidc';
  csrfToken: string;
  expiresAt: Date;
}

export interface SessionUser {
  userId: string;
  username: string | null;
  displayName: string;
  role: Role;
}

export const newToken = (): string => randomBytes(32).toString('base64url');
export const hashToken = (token: string): Buffer => createHash('sha256').update(token).digest();

/** The CSRF token of a session: derived from its secret token, so nothing more is stored. */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('stadtfunk csrf v1').digest('base64url');
}

export function cookieOptions(maxAgeS: number, sameSite: 'strict' | 'lax' = 'strict') {
  return { path: '/', httpOnly: true, secure: true, sameSite, maxAge: maxAgeS } as const;
}

export class SessionStore {
  constructor(private readonly pool: pg.Pool, readonly idleTimeoutS: number, readonly maxAgeS: number) {}

  /** Starts a session and sets its cookie; always a new token, so a planted one never becomes valid (session fixation). */
  async start(request: FastifyRequest, reply: FastifyReply, userId: string, via: 'password' | 'oidc'): Promise<{ csrfToken: string; expiresAt: Date }> {
    const token = newToken();
    const userAgent = request.headers['user-agent']?.slice(0, 300) ?? null;
    const { expiresAt } = await insertSession(this.pool, { tokenHash: hashToken(token), userId, via, maxAgeS: this.maxAgeS, remoteAddr: request.ip, userAgent });
    reply.setCookie(SESSION_COOKIE, token, cookieOptions(this.maxAgeS));
    return { csrfToken: csrfTokenFor(token), expiresAt };
  }

  /** The live session of this cookie value, refreshing its last use; null when unknown, expired or its user disabled. */
  async resolve(token: string): Promise<{ session: SessionInfo; user: SessionUser } | null> {
    if (token.length !== 43) return null;
    const tokenHash = hashToken(token);
    const row = await selectActiveSession(this.pool, tokenHash, this.idleTimeoutS);
    if (!row) return null;
    if (row.idleS > TOUCH_AFTER_S) await touchSession(this.pool, tokenHash);
    return {
      session: { tokenHash, userId: row.userId, displayName: row.displayName, via: row.via, csrfToken: csrfTokenFor(token), expiresAt: row.expiresAt },
      user: { userId: row.userId, username: row.username, displayName: row.displayName, role: row.role },
    };
  }

  async end(tokenHash: Buffer): Promise<void> {
    await deleteSession(this.pool, tokenHash);
  }

  /** Sign out everywhere; the number of sessions ended. */
  async endAll(userId: string): Promise<number> {
    return deleteUserSessions(this.pool, userId);
  }
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, secure: true, sameSite: 'strict' });
}

export function csrfTokenMatches(request: FastifyRequest, expected: string): boolean {
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The request comes from this service's own pages, or from no browser page at all
 * (no Origin and no Sec-Fetch-Site: curl, scripts). Another origin, or a browser that
 * says the request is cross-site, is refused.
 */
export function fromOwnOrigin(request: FastifyRequest, publicUrl: string | null): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return false;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (origin === `${request.protocol}://${request.host}`) return true;
  return publicUrl !== null && origin === new URL(publicUrl).origin;
}

/**
 * The browser will keep a Secure cookie from this request: https (directly, or as a TLS
 * proxy says in X-Forwarded-Proto), or a loopback host, which Chromium treats as secure.
 */
export function secureContext(request: FastifyRequest): boolean {
  return request.protocol === 'https' || isLoopbackHost(request.hostname);
}
