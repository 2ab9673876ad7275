/**
 * Sign-in, the current session, sign-out and sign-out everywhere. Every sign-in, failed
 * sign-in, lockout and sign-out is audited; the audit never holds a password, nor the
 * name typed for an account that does not exist (people type passwords there).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { deleteExpiredSignInState } from '../storage/index.js';
import type { ApiContext } from './app.js';
import { HttpError } from './errors.js';
import { PasswordHasherBusy } from './password-hash.js';
import { ErrorResponse } from './schemas.js';
import { clearSessionCookie, cookieOptions, DEVICE_COOKIE, fromOwnOrigin, secureContext, SESSION_COOKIE } from './sessions.js';
import { LOCKOUT, signInWithPassword } from './sign-in.js';

const SessionUser = Type.Object({
  id: Type.Union([Type.String(), Type.Null()], { description: 'user id; null for an API key' }),
  name: Type.String({ description: 'user name (or the API key\'s name)' }),
  displayName: Type.String(),
  role: Type.String(),
  via: Type.Union([Type.Literal('password'), Type.Literal('oidc'), Type.Literal('api_key')]),
});
const SessionState = Type.Object({
  user: Type.Union([SessionUser, Type.Null()]),
  csrfToken: Type.Union([Type.String(), Type.Null()], { description: 'send as X-CSRF-Token with every change made with this session' }),
  expiresAt: Type.Union([Type.String(), Type.Null()], { description: 'absolute end of the session' }),
  idleTimeoutS: Type.Integer(),
  methods: Type.Object({ password: Type.Boolean(), oidc: Type.Union([Type.Object({ name: Type.String(), url: Type.String() }), Type.Null()]) }),
});

/** Housekeeping of expired sign-in state runs at most this often, started by sign-ins. */
const SWEEP_EVERY_MS = 10 * 60_000;

export const sessionRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const tags = ['session'];
  const methods = { password: true, oidc: ctx.auth.oidc ? { name: ctx.auth.oidc.displayName, url: '/api/v1/auth/oidc/start' } : null };
  let lastSweep = 0;
  const sweep = (): void => {
    if (Date.now() - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = Date.now();
    deleteExpiredSignInState(ctx.pool, { idleTimeoutS: ctx.sessions.idleTimeoutS, deviceMaxAgeS: LOCKOUT.deviceMaxAgeS, flowMaxAgeS: 600, failureWindowS: LOCKOUT.addressWindowS })
      .catch((error) => app.log.warn({ err: error }, 'sign-in housekeeping failed'));
  };
  const audit = (request: FastifyRequest, actor: string, role: string | null, action: string, target: string | null, detail: Record<string, unknown> | null): void =>
    ctx.audit.record({ actor, role, action, target, detail, remoteAddr: request.ip });

  app.get('/api/v1/session', {
    schema: { tags, summary: 'Who is signed in (user null when nobody), the CSRF token, and the ways to sign in', response: { 200: SessionState } },
  }, async (request, reply) => {
    const p = request.principal;
    // A cookie that no longer names a session is dropped, so the browser stops sending it.
    if (!p && request.cookies[SESSION_COOKIE]) clearSessionCookie(reply);
    const user = !p ? null : {
      id: p.userId, name: p.name, displayName: request.session?.displayName ?? p.name, role: p.role, via: p.via === 'api_key' ? ('api_key' as const) : request.session!.via,
    };
    return { user, csrfToken: request.session?.csrfToken ?? null, expiresAt: request.session?.expiresAt.toISOString() ?? null, idleTimeoutS: ctx.sessions.idleTimeoutS, methods };
  });

  app.post('/api/v1/session', {
    schema: {
      tags, summary: 'Sign in with user name and password (sets the session cookie)',
      body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 200 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }),
      response: { 200: SessionState, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse },
    },
  }, async (request, reply) => {
    const started = Date.now();
    if (!fromOwnOrigin(request, ctx.publicUrl ?? null)) throw new HttpError(403, 'STADTFUNK_ERR_CROSS_ORIGIN', 'sign in from this service\'s own sign-in page');
    if (!secureContext(request)) {
      throw new HttpError(400, 'STADTFUNK_ERR_NEEDS_HTTPS', 'sign-in needs https (or localhost): the session cookie is Secure and a browser drops it over plain http. Reach the service through https, or set X-Forwarded-Proto at the TLS proxy');
    }
    sweep();
    let outcome;
    try {
      outcome = await signInWithPassword(ctx.pool, { username: request.body.username, password: request.body.password, deviceToken: request.cookies[DEVICE_COOKIE] ?? null, remoteAddr: request.ip });
    } catch (error) {
      if (error instanceof PasswordHasherBusy) throw new HttpError(503, error.code, error.message);
      throw error;
    }
    if (outcome.ok) {
      const { user } = outcome;
      const { csrfToken, expiresAt } = await ctx.sessions.start(request, reply, user.id, 'password');
      reply.setCookie(DEVICE_COOKIE, outcome.deviceToken, cookieOptions(LOCKOUT.deviceMaxAgeS));
      audit(request, user.username!, user.role, 'session.sign_in', user.id, { via: 'password' });
      return {
        user: { id: user.id, name: user.username!, displayName: user.displayName, role: user.role, via: 'password' as const },
        csrfToken, expiresAt: expiresAt.toISOString(), idleTimeoutS: ctx.sessions.idleTimeoutS, methods,
      };
    }
    const actor = outcome.user?.username ?? 'anonymous';
    const role = outcome.user?.role ?? null;
    audit(request, actor, role, 'session.sign_in_failed', outcome.user?.id ?? null, { via: 'password', reason: outcome.reason });
    if (outcome.reason === 'wrong_password' && outcome.lockedUntil) {
      audit(request, actor, role, 'session.locked', outcome.user!.id, { until: outcome.lockedUntil.toISOString(), after: `${LOCKOUT.lockAfter} or more failed sign-ins` });
    }
    await waitUntil(started + LOCKOUT.failureDelayMs);
    return refuse(reply, outcome.reason, outcome.lockedUntil);
  });

  app.delete('/api/v1/session', {
    schema: { tags, summary: 'Sign out this browser (needs X-CSRF-Token)', response: { 204: Type.Null() } },
  }, async (request, reply) => {
    if (request.session) {
      await ctx.sessions.end(request.session.tokenHash);
      audit(request, request.principal!.name, request.principal!.role, 'session.sign_out', request.principal!.userId, null);
    }
    clearSessionCookie(reply);
    return reply.status(204).send(null);
  });

  app.delete('/api/v1/sessions', {
    schema: { tags, summary: 'Sign out everywhere: end every session of the signed-in user (needs X-CSRF-Token)', response: { 200: Type.Object({ ended: Type.Integer() }), 400: ErrorResponse, 401: ErrorResponse } },
  }, async (request, reply) => {
    if (!request.principal) throw new HttpError(401, 'STADTFUNK_ERR_UNAUTHENTICATED', 'sign in first');
    if (!request.session) throw new HttpError(400, 'STADTFUNK_ERR_NO_SESSION', 'an API key has no sessions; revoke the key instead');
    const ended = await ctx.sessions.endAll(request.session.userId);
    audit(request, request.principal.name, request.principal.role, 'session.sign_out_everywhere', request.session.userId, { sessions: ended });
    clearSessionCookie(reply);
    return { ended };
  });
};

function refuse(reply: FastifyReply, reason: string, until: Date | null): never {
  if (until && (reason === 'locked' || reason === 'wrong_password' || reason === 'address_blocked')) {
    const seconds = Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000));
    reply.header('retry-after', String(seconds));
    const minutes = Math.ceil(seconds / 60);
    if (reason === 'address_blocked') {
      throw new HttpError(429, 'STADTFUNK_ERR_TOO_MANY_SIGN_INS', `too many failed sign-ins from this address: try again in ${minutes} minute${minutes === 1 ? '' : 's'}`);
    }
    throw new HttpError(429, 'STADTFUNK_ERR_ACCOUNT_LOCKED',
      `too many failed sign-ins: this account is locked for ${minutes} minute${minutes === 1 ? '' : 's'} (browsers it signed in with before are not locked)`);
  }
  if (reason === 'disabled') throw new HttpError(403, 'STADTFUNK_ERR_USER_DISABLED', 'this account is disabled; ask an administrator');
  throw new HttpError(401, 'STADTFUNK_ERR_SIGN_IN_FAILED', 'user name or password is wrong');
}

function waitUntil(time: number): Promise<void> {
  const ms = time - Date.now();
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
