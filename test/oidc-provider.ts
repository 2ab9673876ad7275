/**
 * A real OpenID Connect provider for the tests: the npm package oidc-provider (an
 * OpenID Certified implementation), in this process on a free port, with one registered
 * client and a few accounts with groups. It uses the package's own development
 * interactions (a login form that accepts any password for a known account, then a
 * consent page), so the browser walks through the provider's real pages and redirects.
 *
 * Served as http://localhost:PORT while stadtfunk runs on http://127.0.0.1: different
 * sites to the browser, so the provider's redirect back is a cross-site navigation, as
 * in production.
 */
import { generateKeyPairSync } from 'node:crypto';
import type http from 'node:http';
import Provider, { type Configuration } from 'oidc-provider';
import { freePort } from '../bench/free-port.js';

export interface TestAccount {
  name: string;
  preferred_username: string;
  email: string;
  groups: string[];
}

export interface RunningProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

export async function startOidcProvider(options: { redirectUri: string; accounts: Record<string, TestAccount> }): Promise<RunningProvider> {
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const clientId = 'stadtfunk';
  const clientSecret = 'test-client-secret-not-a-real-one';
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const configuration: Configuration = {
    clients: [{
      client_id: clientId, client_secret: clientSecret, redirect_uris: [options.redirectUri],
      grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_post',
    }],
    jwks: { keys: [{ ...signing, kid: 'test-signing', use: 'sig', alg: 'RS256' }] as never },
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'], groups: ['groups'] },
    scopes: ['openid', 'profile', 'email', 'groups'],
    pkce: { required: () => true },
    cookies: { keys: ['oidc-provider test cookie key'] },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx, id) {
      const account = options.accounts[id];
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...account }) };
    },
  };
  const provider = new Provider(issuer, configuration);
  const server: http.Server = await new Promise((resolve) => {
    const s = provider.listen(port, () => resolve(s));
  });
  return {
    issuer, clientId, clientSecret,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
