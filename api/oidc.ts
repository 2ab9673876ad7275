/**
 * OpenID Connect sign-in against the city's identity provider (Keycloak, Entra ID,
 * ADFS), with openid-client: authorization code flow with PKCE (S256), state and nonce
 * (OpenID Connect Core 1.0 §3.1, RFC 7636). openid-client checks the authorization
 * response (state, `iss` per RFC 9207 where the provider announces it) and the ID token
 * (signature against the provider's JWKS, iss, aud, exp, iat, nonce).
 *
 * The provider's metadata is discovered on first use, not at start: a provider that is
 * down must not keep the service (and its ingest) from starting. A failed discovery is
 * tried again at the next sign-in.
 *
 * The role comes from the groups claim (a dotted path into the ID token's claims, else
 * the UserInfo response's) through OIDC_ROLE_MAP: the first mapped group the user has
 * wins; no mapped group, no access.
 */
import * as client from 'openid-client';
import type { OidcConfig, OidcRoleMapping } from '../auth-config.js';
import { isLoopbackHost } from '../auth-config.js';
import type { Role } from '../storage/index.js';

export interface OidcFlow {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface OidcIdentity {
  issuer: string;
  subject: string;
  /** preferred_username, else email, else name, else the subject. */
  username: string;
  displayName: string;
  groups: string[];
}

/** Why a callback was refused; each has its own message in the web app. */
export type OidcFailure = 'denied' | 'invalid_response' | 'provider_unreachable';

export class OidcError extends Error {
  constructor(readonly failure: OidcFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OidcError';
  }
}

/** The value at a dotted path of the claims (`realm_access.roles`), as a list of strings. */
export function groupsFromClaims(claims: Record<string, unknown>, path: string): string[] | null {
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    value = (value as Record<string, unknown>)[part];
  }
  if (typeof value === 'string') return [value]; // ADFS sends one group as a plain string
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return null;
}

export function roleForGroups(groups: readonly string[], map: readonly OidcRoleMapping[]): Role | null {
  const have = new Set(groups);
  return map.find((m) => have.has(m.group))?.role ?? null;
}

/**
 * openid-client says what kind of check failed ("invalid response encountered") and its
 * cause which one ('unexpected "state" response parameter value'): both, for the audit log.
 */
function explain(error: unknown): string {
  const messages: string[] = [];
  for (let e: unknown = error; e instanceof Error && messages.length < 3; e = e.cause) messages.push(e.message);
  return messages.join(': ');
}

export class OidcClient {
  private configuration: Promise<client.Configuration> | null = null;

  constructor(readonly settings: Readonly<OidcConfig>) {}

  private discover(): Promise<client.Configuration> {
    this.configuration ??= (async () => {
      const issuer = new URL(this.settings.issuerUrl);
      const secret = this.settings.clientSecret;
      const config = await client.discovery(
        issuer, this.settings.clientId, secret ?? undefined, secret ? undefined : client.None(),
        // auth-config.ts allows http only for loopback issuers (a provider started by the tests).
        isLoopbackHost(issuer.hostname) && issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests], timeout: 10 } : { timeout: 10 },
      );
      return config;
    })().catch((error: unknown) => {
      this.configuration = null;
      throw new OidcError('provider_unreachable', `the identity provider's configuration could not be read: ${(error as Error).message}`, { cause: error });
    });
    return this.configuration;
  }

  /** Where to send the browser, and what to keep for the callback. */
  async start(): Promise<{ url: URL; flow: OidcFlow }> {
    const config = await this.discover();
    const flow = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier() };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUrl,
      scope: this.settings.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(flow.codeVerifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    return { url, flow };
  }

  /** Checks the provider's answer (the callback's query) against the flow, redeems the code and reads who signed in. */
  async finish(query: string, flow: OidcFlow): Promise<OidcIdentity> {
    const config = await this.discover();
    // The URL the provider redirected to, as configured: behind a proxy the request's own
    // host and scheme may differ from what the browser used.
    const current = new URL(this.settings.redirectUrl);
    current.search = query;
    let tokens;
    try {
      tokens = await client.authorizationCodeGrant(config, current, { pkceCodeVerifier: flow.codeVerifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true });
    } catch (error) {
      if (error instanceof client.AuthorizationResponseError) {
        throw new OidcError(error.error === 'access_denied' ? 'denied' : 'invalid_response', `the identity provider answered ${error.error}: ${error.error_description ?? ''}`.trim(), { cause: error });
      }
      throw new OidcError('invalid_response', explain(error), { cause: error });
    }
    const claims = tokens.claims()!;
    let groups = groupsFromClaims(claims, this.settings.groupsClaim);
    let profile: Record<string, unknown> = claims;
    // Many providers put groups only into UserInfo (oidc-provider by default, Keycloak when the mapper says so).
    if (groups === null && config.serverMetadata().userinfo_endpoint) {
      try {
        profile = { ...(await client.fetchUserInfo(config, tokens.access_token, claims.sub)), ...claims };
      } catch (error) {
        throw new OidcError('invalid_response', `UserInfo: ${explain(error)}`, { cause: error });
      }
      groups = groupsFromClaims(profile, this.settings.groupsClaim);
    }
    const text = (name: string): string | null => (typeof profile[name] === 'string' && profile[name] ? (profile[name] as string) : null);
    const username = text('preferred_username') ?? text('email') ?? text('upn') ?? text('name') ?? claims.sub;
    return { issuer: claims.iss, subject: claims.sub, username, displayName: text('name') ?? username, groups: groups ?? [] };
  }
}
