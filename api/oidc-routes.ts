/**
 * The browser side of OpenID Connect sign-in: /start sends the browser to the identity
 * provider, /callback takes it back. Both are navigations, not API calls, so every
 * outcome is a redirect into the web app: on success where the user was going, on
 * failure to the sign-in page with a reason it explains (`#/signin?error=oidc_…`).
 *
 * The flow's secrets (state, nonce, PKCE verifier) stay in the database under the hash
 * of a random id; the browser holds the id in a SameSite=Lax cookie (it must come back
 * on the provider's redirect, a cross-site navigation), so a callback only completes in
 * the browser that started it, once, within ten minutes.
 */
import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { insertOidcFlow, takeOidcFlow, upsertOidcUser } from '../storage/index.js';
import type { ApiContext } from './app.js';
import { OidcClient, OidcError, roleForGroups, type OidcIdentity } from './oidc.js';
import { cookieOptions, hashToken, OIDC_FLOW_COOKIE, secureContext } from './sessions.js';

const FLOW_MAX_AGE_S = 600;
const DEFAULT_RETURN = '/app/';

/** Only the web app's own pages: never an absolute URL or `//host` (no open redirect). */
export function safeReturnTo(value: string | undefined): string {
  return value && /^\/app\/[^\\\s]*$/.test(value) && !value.startsWith('//') ? value : DEFAULT_RETURN;
}

export const oidcRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const settings = ctx.auth.oidc;
  if (!settings) return;
  const oidc = new OidcClient(settings);
  const tags = ['session'];
  const failed = (reply: FastifyReply, error: string) => reply.redirect(`/app/#/signin?error=${error}`, 303);
  const audit = (request: FastifyRequest, identity: OidcIdentity | null, action: string, target: string | null, detail: Record<string, unknown>): void =>
    ctx.audit.record({ actor: identity?.username ?? 'anonymous', role: null, action, target, detail: { via: 'oidc', ...detail }, remoteAddr: request.ip });

  app.get('/api/v1/auth/oidc/start', {
    schema: {
      tags, summary: `Sign in with ${settings.displayName}: redirects to the identity provider`,
      querystring: Type.Object({ returnTo: Type.Optional(Type.String({ maxLength: 500 })) }),
    },
  }, async (request, reply) => {
    if (!secureContext(request)) return failed(reply, 'needs_https');
    let start;
    try {
      start = await oidc.start();
    } catch (error) {
      request.log.warn({ err: error }, 'OpenID Connect: sign-in could not start');
      return failed(reply, 'oidc_unreachable');
    }
    const id = randomBytes(32).toString('base64url');
    await insertOidcFlow(ctx.pool, hashToken(id), { ...start.flow, returnTo: safeReturnTo(request.query.returnTo) });
    reply.setCookie(OIDC_FLOW_COOKIE, id, cookieOptions(FLOW_MAX_AGE_S, 'lax'));
    return reply.redirect(start.url.href, 303);
  });

  app.get('/api/v1/auth/oidc/callback', {
    // The provider's parameters are checked by openid-client, from the raw query; the schema documents them.
    schema: {
      tags, summary: 'Where the identity provider sends the browser back (not called directly)',
      querystring: Type.Object({
        code: Type.Optional(Type.String()), state: Type.Optional(Type.String()), iss: Type.Optional(Type.String()),
        error: Type.Optional(Type.String()), error_description: Type.Optional(Type.String()),
      }, { additionalProperties: true }),
    },
  }, async (request, reply) => {
    const flowId = request.cookies[OIDC_FLOW_COOKIE];
    reply.clearCookie(OIDC_FLOW_COOKIE, cookieOptions(0, 'lax'));
    const flow = flowId ? await takeOidcFlow(ctx.pool, hashToken(flowId), FLOW_MAX_AGE_S) : null;
    if (!flow) {
      audit(request, null, 'session.sign_in_failed', null, { reason: 'flow_missing_or_expired' });
      return failed(reply, 'oidc_expired');
    }
    const query = request.raw.url!.includes('?') ? request.raw.url!.slice(request.raw.url!.indexOf('?')) : '';
    let identity: OidcIdentity;
    try {
      identity = await oidc.finish(query, flow);
    } catch (error) {
      const failure = error instanceof OidcError ? error.failure : 'invalid_response';
      request.log.warn({ err: error }, 'OpenID Connect: sign-in refused');
      audit(request, null, 'session.sign_in_failed', null, { reason: failure, message: (error as Error).message.slice(0, 300) });
      return failed(reply, failure === 'denied' ? 'oidc_denied' : failure === 'provider_unreachable' ? 'oidc_unreachable' : 'oidc_failed');
    }
    const role = roleForGroups(identity.groups, settings.roleMap);
    if (role === null) {
      audit(request, identity, 'session.sign_in_failed', null, { reason: 'no_mapped_group', subject: identity.subject, groups: identity.groups.slice(0, 20) });
      return failed(reply, 'oidc_no_role');
    }
    const user = await upsertOidcUser(ctx.pool, { id: randomBytes(6).toString('hex'), issuer: identity.issuer, subject: identity.subject, username: identity.username, displayName: identity.displayName, role });
    if (user.disabledAt) {
      audit(request, identity, 'session.sign_in_failed', user.id, { reason: 'disabled' });
      return failed(reply, 'oidc_disabled');
    }
    await ctx.sessions.start(request, reply, user.id, 'oidc');
    ctx.audit.record({ actor: identity.username, role, action: 'session.sign_in', target: user.id, detail: { via: 'oidc', groups: identity.groups.slice(0, 20) }, remoteAddr: request.ip });
    return reply.redirect(flow.returnTo, 303);
  });
};
