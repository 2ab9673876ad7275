/**
 * Sign-in settings: session lifetimes and the city's OpenID Connect identity provider
 * (SESSION_* and OIDC_* variables). Read by config.ts, the only module that sees
 * process.env; `docs/sign-in.md` explains each with Keycloak and Entra ID examples.
 */
import { ConfigError } from './config-error.js';
import type { Role } from './storage/index.js';

/** The path of the callback route (api/oidc-routes.ts); OIDC_REDIRECT_URL must end with it. */
export const OIDC_CALLBACK_PATH = '/api/v1/auth/oidc/callback';

export interface OidcRoleMapping {
  /** A value of the groups claim, compared exactly (Keycloak `/stadtfunk/technicians`, an Entra group object id). */
  group: string;
  role: Role;
}

export interface OidcConfig {
  /** Issuer identifier; its `/.well-known/openid-configuration` is read. https, or http on a loopback host. */
  issuerUrl: string;
  clientId: string;
  /** Null for a public client (PKCE only). */
  clientSecret: string | null;
  /** Where the provider sends the browser back: this service's OIDC_CALLBACK_PATH as the browser reaches it. */
  redirectUrl: string;
  /** Requested scopes; always includes `openid`. Default `openid profile email`. */
  scopes: string[];
  /** Dotted path of the claim that lists the user's groups, e.g. `groups` or `realm_access.roles`. Default `groups`. */
  groupsClaim: string;
  /** Groups to roles, in order: the first entry whose group the user has gives the role. */
  roleMap: readonly OidcRoleMapping[];
  /** Shown on the sign-in button, e.g. `Stadt-Login` ("Sign in with Stadt-Login"). */
  displayName: string;
}

export interface AuthConfig {
  /** A session unused this long ends. SESSION_IDLE_TIMEOUT_S, default 3600 s. */
  sessionIdleTimeoutS: number;
  /** A session ends this long after sign-in, used or not. SESSION_MAX_AGE_S, default 43200 s (12 h). */
  sessionMaxAgeS: number;
  /** Null when OIDC_ISSUER_URL is unset: local accounts only. */
  oidc: Readonly<OidcConfig> | null;
}

type Env = Record<string, string | undefined>;
const ROLES: readonly Role[] = ['admin', 'technician', 'operator'];

function read(env: Env, name: string): string | null {
  const value = env[name]?.trim();
  return value ? value : null;
}

function seconds(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = read(env, name);
  if (value === null) return fallback;
  if (!/^\d+$/.test(value)) throw new ConfigError(name, `"${value}" is not a whole number of seconds`, String(fallback));
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(name, `${n} is outside ${min}..${max}`, String(fallback));
  return n;
}

export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === '[::1]' || hostname === '::1';
}

/**
 * `group=role` entries separated by commas, split at the last `=` of each (Keycloak
 * paths and group ids contain neither comma nor `=`); or a JSON object `{"group": "role"}`
 * for group names that contain commas (LDAP distinguished names through ADFS).
 */
export function parseRoleMap(value: string): OidcRoleMapping[] {
  const example = 'stadtfunk-admins=admin,stadtfunk-technicians=technician,verkehrsleitstelle=operator';
  let pairs: [string, unknown][];
  if (value.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new ConfigError('OIDC_ROLE_MAP', 'starts with { but is not valid JSON', `{"CN=Technik,OU=Gruppen,DC=stadt":"technician"}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError('OIDC_ROLE_MAP', 'must be a JSON object of group to role', example);
    pairs = Object.entries(parsed);
  } else {
    pairs = value.split(',').map((entry) => entry.trim()).filter(Boolean).map((entry) => {
      const at = entry.lastIndexOf('=');
      if (at <= 0) throw new ConfigError('OIDC_ROLE_MAP', `"${entry}" is not group=role`, example);
      return [entry.slice(0, at).trim(), entry.slice(at + 1).trim()];
    });
  }
  const map = pairs.map(([group, role]) => {
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
      throw new ConfigError('OIDC_ROLE_MAP', `role "${String(role)}" of group "${group}" is not one of ${ROLES.join(', ')}`, example);
    }
    if (!group) throw new ConfigError('OIDC_ROLE_MAP', 'a group name is empty', example);
    return { group, role: role as Role };
  });
  if (map.length === 0) throw new ConfigError('OIDC_ROLE_MAP', 'maps no group to a role: without it nobody could sign in through OIDC', example);
  return map;
}

function oidcConfig(env: Env, publicUrl: string | null): OidcConfig | null {
  const issuer = read(env, 'OIDC_ISSUER_URL');
  if (issuer === null) {
    const stray = Object.keys(env).find((name) => name.startsWith('OIDC_') && read(env, name) !== null);
    if (stray) throw new ConfigError('OIDC_ISSUER_URL', `is needed when ${stray} is set`, 'https://login.stadt.example/realms/stadt');
    return null;
  }
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(issuer);
  } catch {
    throw new ConfigError('OIDC_ISSUER_URL', `"${issuer}" is not a URL`, 'https://login.stadt.example/realms/stadt');
  }
  if (issuerUrl.protocol !== 'https:' && !(issuerUrl.protocol === 'http:' && isLoopbackHost(issuerUrl.hostname))) {
    throw new ConfigError('OIDC_ISSUER_URL', 'must be https (http only on a loopback address, for tests)', 'https://login.stadt.example/realms/stadt');
  }
  const clientId = read(env, 'OIDC_CLIENT_ID');
  if (clientId === null) throw new ConfigError('OIDC_CLIENT_ID', 'is required with OIDC_ISSUER_URL', 'stadtfunk');
  const redirectUrl = read(env, 'OIDC_REDIRECT_URL') ?? (publicUrl ? `${publicUrl}${OIDC_CALLBACK_PATH}` : null);
  const redirectExample = `https://daten.stadt.example${OIDC_CALLBACK_PATH}`;
  if (redirectUrl === null) throw new ConfigError('OIDC_REDIRECT_URL', 'is required with OIDC_ISSUER_URL unless PUBLIC_URL is set', redirectExample);
  let redirect: URL;
  try {
    redirect = new URL(redirectUrl);
  } catch {
    throw new ConfigError('OIDC_REDIRECT_URL', `"${redirectUrl}" is not a URL`, redirectExample);
  }
  if (!redirect.pathname.endsWith(OIDC_CALLBACK_PATH) || redirect.search || redirect.hash) {
    throw new ConfigError('OIDC_REDIRECT_URL', `must end with ${OIDC_CALLBACK_PATH}, without query or fragment`, redirectExample);
  }
  if (redirect.protocol !== 'https:' && !(redirect.protocol === 'http:' && isLoopbackHost(redirect.hostname))) {
    throw new ConfigError('OIDC_REDIRECT_URL', 'must be https (http only on a loopback address): the session cookie is Secure', redirectExample);
  }
  const scopes = (read(env, 'OIDC_SCOPES') ?? 'openid profile email').split(/[\s,]+/).filter(Boolean);
  if (!scopes.includes('openid')) throw new ConfigError('OIDC_SCOPES', 'must include openid', 'openid profile email');
  const groupsClaim = read(env, 'OIDC_GROUPS_CLAIM') ?? 'groups';
  if (!/^[A-Za-z0-9_:\-/]+(\.[A-Za-z0-9_:\-/]+)*$/.test(groupsClaim)) throw new ConfigError('OIDC_GROUPS_CLAIM', `"${groupsClaim}" is not a claim name or dotted path`, 'realm_access.roles');
  const roleMap = read(env, 'OIDC_ROLE_MAP');
  if (roleMap === null) throw new ConfigError('OIDC_ROLE_MAP', 'is required with OIDC_ISSUER_URL (which groups get which role)', 'stadtfunk-admins=admin,stadtfunk-technicians=technician');
  return {
    issuerUrl: issuer,
    clientId,
    clientSecret: read(env, 'OIDC_CLIENT_SECRET'),
    redirectUrl: redirect.toString(),
    scopes,
    groupsClaim,
    roleMap: Object.freeze(parseRoleMap(roleMap)),
    displayName: read(env, 'OIDC_DISPLAY_NAME') ?? issuerUrl.hostname,
  };
}

export function loadAuthConfig(env: Env, publicUrl: string | null): Readonly<AuthConfig> {
  const sessionIdleTimeoutS = seconds(env, 'SESSION_IDLE_TIMEOUT_S', 3600, 60, 7 * 86_400);
  const sessionMaxAgeS = seconds(env, 'SESSION_MAX_AGE_S', 43_200, 300, 30 * 86_400);
  if (sessionIdleTimeoutS > sessionMaxAgeS) throw new ConfigError('SESSION_IDLE_TIMEOUT_S', `${sessionIdleTimeoutS} is longer than SESSION_MAX_AGE_S (${sessionMaxAgeS})`, '3600');
  const oidc = oidcConfig(env, publicUrl);
  return Object.freeze({ sessionIdleTimeoutS, sessionMaxAgeS, oidc: oidc ? Object.freeze(oidc) : null });
}
