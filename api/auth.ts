/**
 * API keys and roles. Keys are random (`sfk_` + 32 bytes base64url), shown once, stored
 * as SHA-256; requests send `Authorization: Bearer <key>` or `X-API-Key: <key>`.
 * Roles: admin ⊃ technician (registry), operator (live traffic control); anonymous
 * requests see only open data. Verified keys are cached briefly so high request rates
 * do not cost a query each; a revoked key stops working within `cacheMs`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { insertApiKey, selectApiKeyByHash, type Role } from '../storage/index.js';
import { HttpError } from './errors.js';

export type { Role };
export const ROLES: readonly Role[] = ['admin', 'technician', 'operator'];

export interface Principal {
  /** The API key's id; null for a signed-in user. */
  keyId: string | null;
  /** The signed-in user's id; null for an API key. */
  userId: string | null;
  /** The key's name, or the user's user name (display name for a user from the identity provider). */
  name: string;
  role: Role;
  via: 'api_key' | 'session';
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** The browser session the principal comes from (api/sessions.ts); null for API keys and anonymous requests. */
    session: import('./sessions.js').SessionInfo | null;
  }
}

export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** Creates a key; the returned `key` is the only time the secret is seen. */
export async function createApiKey(db: pg.Pool, name: string, role: Role): Promise<{ id: string; key: string }> {
  const id = randomBytes(6).toString('hex');
  const key = `sfk_${randomBytes(32).toString('base64url')}`;
  await insertApiKey(db, { id, name, role, keyHash: hashKey(key) });
  return { id, key };
}

export class KeyVerifier {
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();
  constructor(private readonly pool: pg.Pool, private readonly cacheMs = 5_000) {}

  async verify(key: string): Promise<Principal | null> {
    const hash = hashKey(key);
    const cacheKey = hash.toString('base64');
    const hit = this.cache.get(cacheKey);
    if (hit && hit.until > Date.now()) return hit.principal;
    const row = await selectApiKeyByHash(this.pool, hash);
    const principal: Principal | null = row ? { keyId: row.id, userId: null, name: row.name, role: row.role, via: 'api_key' } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(cacheKey, { principal, until: Date.now() + this.cacheMs });
    return principal;
  }

  forget(): void {
    this.cache.clear();
  }
}

export function presentedKey(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey ? apiKey.trim() : null;
}

/** preHandler: the request needs one of `roles` (admin always passes). */
export function requireRole(...roles: Role[]) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (!request.principal) throw new HttpError(401, 'STADTFUNK_ERR_UNAUTHENTICATED', 'sign in, or send an API key: Authorization: Bearer <key>');
    if (request.principal.role !== 'admin' && !roles.includes(request.principal.role)) {
      throw new HttpError(403, 'STADTFUNK_ERR_FORBIDDEN', `role ${request.principal.role} may not do this (needs ${['admin', ...roles].join(' or ')})`);
    }
  };
}
