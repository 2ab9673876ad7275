/**
 * Admin: user accounts. Local users are created here (or by `stadtfunk user create`);
 * users of the identity provider appear at their first sign-in and can be disabled.
 * Disabling a user or setting a new password ends the user's sessions. An admin cannot
 * disable or demote themselves, so the last admin cannot lock everyone out by a click.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { countUserSessions, selectUserById, selectUsers, unlockUser, type UserRow } from '../storage/index.js';
import { changeUser, createUser, PASSWORD_MAX_LENGTH } from './accounts.js';
import type { ApiContext } from './app.js';
import { requireRole, ROLES } from './auth.js';
import { HttpError, notFound } from './errors.js';
import { ErrorResponse } from './schemas.js';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

const User = Type.Object({
  id: Type.String(),
  username: Type.Union([Type.String(), Type.Null()], { description: 'the name the user signs in with (for source oidc: at the identity provider)' }),
  displayName: Type.String(),
  role: Type.String(),
  source: Type.Union([Type.Literal('local'), Type.Literal('oidc')]),
  disabled: Type.Boolean(),
  lockedUntil: Type.Union([Type.String(), Type.Null()], { description: 'password sign-in from new browsers refused until then' }),
  lastSignInAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  sessions: Type.Integer({ description: 'sessions that have not expired' }),
});

// Explicit fields: the password hash never leaves.
const userOut = (u: UserRow, sessions: number) => ({
  id: u.id, username: u.username ?? u.oidcUsername, displayName: u.displayName, role: u.role, source: u.oidcSubject ? ('oidc' as const) : ('local' as const),
  disabled: u.disabledAt !== null, lockedUntil: u.lockedUntil && u.lockedUntil > new Date() ? u.lockedUntil.toISOString() : null,
  lastSignInAt: iso(u.lastSignInAt), createdAt: u.createdAt.toISOString(), sessions,
});

export const userRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.addHook('preHandler', requireRole());
  const security: Record<string, string[]>[] = [{ apiKey: [] }, { sessionCookie: [] }];
  const tags = ['admin'];
  const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
  const UserId = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{12}$' }) });
  const Password = Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH * 4, description: 'at least 12 characters' });
  const audit = (request: FastifyRequest, action: string, target: string, detail: Record<string, unknown> | null): void =>
    ctx.audit.record({ actor: request.principal!.name, role: 'admin', action, target, detail, remoteAddr: request.ip });

  app.get('/api/v1/users', {
    schema: { tags, security, summary: 'List users (never their passwords)', response: { 200: Type.Object({ items: Type.Array(User) }) } },
  }, async () => {
    const [users, sessions] = await Promise.all([selectUsers(ctx.pool), countUserSessions(ctx.pool)]);
    return { items: users.map((u) => userOut(u, sessions.get(u.id) ?? 0)) };
  });

  app.post('/api/v1/users', {
    schema: {
      tags, security, summary: 'Create a local user with a password',
      body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 100 }), displayName: Type.Optional(Type.String({ maxLength: 200 })), role: Role, password: Password }, { additionalProperties: false }),
      response: { 201: User, 400: ErrorResponse, 409: ErrorResponse },
    },
  }, async (request, reply) => {
    const user = await createUser(ctx.pool, request.body);
    audit(request, 'user.create', user.id, { username: user.username, role: user.role });
    return reply.status(201).send(userOut(user, 0));
  });

  app.patch('/api/v1/users/:id', {
    schema: {
      tags, security, summary: 'Change a user: role, display name, disabled, password (disabling or a new password ends their sessions)',
      params: UserId,
      body: Type.Object({ displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), role: Type.Optional(Role), disabled: Type.Optional(Type.Boolean()), password: Type.Optional(Password) }, { additionalProperties: false, minProperties: 1 }),
      response: { 200: User, 400: ErrorResponse, 404: ErrorResponse },
    },
  }, async (request) => {
    const { id } = request.params;
    const self = request.principal!.userId === id;
    if (self && (request.body.disabled === true || (request.body.role !== undefined && request.body.role !== 'admin'))) {
      throw new HttpError(400, 'STADTFUNK_ERR_SELF_LOCKOUT', 'you cannot disable yourself or give up your own admin role; another admin can');
    }
    const user = await changeUser(ctx.pool, id, request.body);
    let ended = 0;
    if (request.body.disabled === true || request.body.password !== undefined) ended = await ctx.sessions.endAll(id);
    const { password, ...changed } = request.body;
    audit(request, 'user.update', id, { ...changed, ...(password !== undefined ? { password: 'changed' } : {}), sessionsEnded: ended });
    return userOut(user, (await countUserSessions(ctx.pool)).get(id) ?? 0);
  });

  app.delete('/api/v1/users/:id/sessions', {
    schema: { tags, security, summary: 'Sign a user out everywhere', params: UserId, response: { 200: Type.Object({ ended: Type.Integer() }), 404: ErrorResponse } },
  }, async (request) => {
    if (!(await selectUserById(ctx.pool, request.params.id))) throw notFound(`user ${request.params.id}`);
    const ended = await ctx.sessions.endAll(request.params.id);
    audit(request, 'user.sign_out_everywhere', request.params.id, { sessions: ended });
    return { ended };
  });

  app.post('/api/v1/users/:id/unlock', {
    schema: { tags, security, summary: 'Lift a lockout after failed sign-ins', params: UserId, response: { 204: Type.Null(), 404: ErrorResponse } },
  }, async (request, reply) => {
    if (!(await unlockUser(ctx.pool, request.params.id))) throw notFound(`user ${request.params.id}`);
    audit(request, 'user.unlock', request.params.id, null);
    return reply.status(204).send(null);
  });
};
