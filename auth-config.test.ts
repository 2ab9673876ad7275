import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';
import { parseRoleMap } from './auth-config.js';

const OIDC = {
  OIDC_ISSUER_URL: 'https://login.stadt.example/realms/stadt',
  OIDC_CLIENT_ID: 'stadtfunk',
  OIDC_CLIENT_SECRET: 's3cret',
  OIDC_REDIRECT_URL: 'https://daten.stadt.example/api/v1/auth/oidc/callback',
  OIDC_ROLE_MAP: '/stadtfunk/admins=admin, /stadtfunk/technik=technician',
};

describe('sign-in configuration', () => {
  it('defaults to one hour idle, twelve hours at most, no OIDC', () => {
    expect(loadConfig({}).auth).toEqual({ sessionIdleTimeoutS: 3600, sessionMaxAgeS: 43_200, oidc: null });
  });

  it('reads the identity provider, with the redirect URL from PUBLIC_URL when not given', () => {
    const { OIDC_REDIRECT_URL: _, ...rest } = OIDC;
    const oidc = loadConfig({ ...rest, PUBLIC_URL: 'https://daten.stadt.example/', OIDC_GROUPS_CLAIM: 'realm_access.roles', OIDC_DISPLAY_NAME: 'Stadt-Login' }).auth.oidc!;
    expect(oidc).toEqual({
      issuerUrl: OIDC.OIDC_ISSUER_URL, clientId: 'stadtfunk', clientSecret: 's3cret', redirectUrl: OIDC.OIDC_REDIRECT_URL,
      scopes: ['openid', 'profile', 'email'], groupsClaim: 'realm_access.roles', displayName: 'Stadt-Login',
      roleMap: [{ group: '/stadtfunk/admins', role: 'admin' }, { group: '/stadtfunk/technik', role: 'technician' }],
    });
  });

  it('maps group names with = and commas through the JSON form, in order', () => {
    expect(parseRoleMap('{"CN=Technik,OU=Gruppen,DC=stadt":"technician","S-1-5-21=x":"operator"}')).toEqual([
      { group: 'CN=Technik,OU=Gruppen,DC=stadt', role: 'technician' }, { group: 'S-1-5-21=x', role: 'operator' },
    ]);
    expect(parseRoleMap('a=b=admin')).toEqual([{ group: 'a=b', role: 'admin' }]);
  });

  it.each([
    [{ OIDC_CLIENT_ID: 'x' }, 'OIDC_ISSUER_URL: is needed when OIDC_CLIENT_ID is set'],
    [{ ...OIDC, OIDC_ISSUER_URL: 'http://login.stadt.example' }, 'OIDC_ISSUER_URL: must be https'],
    [{ ...OIDC, OIDC_CLIENT_ID: '' }, 'OIDC_CLIENT_ID: is required'],
    [{ ...OIDC, OIDC_REDIRECT_URL: '' }, 'OIDC_REDIRECT_URL: is required with OIDC_ISSUER_URL unless PUBLIC_URL is set'],
    [{ ...OIDC, OIDC_REDIRECT_URL: 'https://daten.stadt.example/callback' }, 'OIDC_REDIRECT_URL: must end with /api/v1/auth/oidc/callback'],
    [{ ...OIDC, OIDC_REDIRECT_URL: 'http://daten.stadt.example/api/v1/auth/oidc/callback' }, 'OIDC_REDIRECT_URL: must be https'],
    [{ ...OIDC, OIDC_ROLE_MAP: '' }, 'OIDC_ROLE_MAP: is required'],
    [{ ...OIDC, OIDC_ROLE_MAP: 'admins=superuser' }, 'OIDC_ROLE_MAP: role "superuser" of group "admins" is not one of admin, technician, operator'],
    [{ ...OIDC, OIDC_ROLE_MAP: 'admins' }, 'OIDC_ROLE_MAP: "admins" is not group=role'],
    [{ ...OIDC, OIDC_SCOPES: 'profile email' }, 'OIDC_SCOPES: must include openid'],
    [{ SESSION_IDLE_TIMEOUT_S: '7200', SESSION_MAX_AGE_S: '3600' }, 'SESSION_IDLE_TIMEOUT_S: 7200 is longer than SESSION_MAX_AGE_S'],
    [{ SESSION_MAX_AGE_S: '12h' }, 'SESSION_MAX_AGE_S: "12h" is not a whole number of seconds'],
  ])('rejects %o with one line naming the variable', (env, message) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('s3cret');
  });

  it('allows an http issuer and redirect on a loopback address (a provider the tests start)', () => {
    const oidc = loadConfig({ ...OIDC, OIDC_ISSUER_URL: 'http://localhost:4000', OIDC_REDIRECT_URL: 'http://127.0.0.1:3000/api/v1/auth/oidc/callback' }).auth.oidc!;
    expect(oidc.issuerUrl).toBe('http://localhost:4000');
    expect(oidc.displayName).toBe('localhost');
  });
});
