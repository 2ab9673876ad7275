import { describe, expect, it } from 'vitest';
import { groupsFromClaims, roleForGroups } from './oidc.js';
import { safeReturnTo } from './oidc-routes.js';

describe('OpenID Connect groups and roles', () => {
  it('finds groups at a dotted path: Keycloak realm roles, a client\'s roles, a single ADFS group, none', () => {
    const claims = { groups: ['/stadtfunk/technik', 7], realm_access: { roles: ['offline_access', 'stadtfunk-admin'] }, resource_access: { stadtfunk: { roles: ['operator'] } }, group: 'STADT\\Leitstelle' };
    expect(groupsFromClaims(claims, 'groups')).toEqual(['/stadtfunk/technik']);
    expect(groupsFromClaims(claims, 'realm_access.roles')).toEqual(['offline_access', 'stadtfunk-admin']);
    expect(groupsFromClaims(claims, 'resource_access.stadtfunk.roles')).toEqual(['operator']);
    expect(groupsFromClaims(claims, 'group')).toEqual(['STADT\\Leitstelle']);
    expect(groupsFromClaims(claims, 'roles')).toBeNull();
    expect(groupsFromClaims(claims, 'groups.x')).toBeNull();
  });

  it('gives the role of the first mapping entry whose group the user has, and none without a mapped group', () => {
    const map = [{ group: 'admins', role: 'admin' as const }, { group: 'technik', role: 'technician' as const }, { group: 'leitstelle', role: 'operator' as const }];
    expect(roleForGroups(['leitstelle', 'technik'], map)).toBe('technician');
    expect(roleForGroups(['admins', 'leitstelle'], map)).toBe('admin');
    expect(roleForGroups(['Technik', 'everyone'], map)).toBeNull(); // exact, case included
    expect(roleForGroups([], map)).toBeNull();
  });

  it('returns only to the web app\'s own pages after sign-in', () => {
    expect(safeReturnTo('/app/#/tech')).toBe('/app/#/tech');
    for (const bad of ['https://evil.example/app/', '//evil.example/app/', '/api/v1/users', '/app/\\evil', undefined, '']) expect(safeReturnTo(bad)).toBe('/app/');
  });
});
