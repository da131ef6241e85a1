// The resources (APIs) the development identity provider issues access tokens for, and how
// Entra ID maps a requested scope to one of them.
//
// Three kinds of resource exist:
//   * a registration's own API (`apiAppId`), which the registration's users hold `roles` on;
//   * the further APIs a registration declares in `apis` (e.g. Azure TRE workspaces), with their
//     own role assignments and, possibly, users who have not consented to them;
//   * Microsoft Graph, which every registration may call with `User.Read`.
//
// As in Entra, the resource is named by the scope's prefix (`api://<app id>/user_impersonation`,
// `https://graph.microsoft.com/User.Read`), and a bare Graph scope name (`User.Read`) means Graph.

/** Microsoft Graph as Entra knows it: its first-party app id is the `aud` of its tokens. */
export const GRAPH = Object.freeze({
  name: 'Microsoft Graph',
  appId: '00000003-0000-0000-c000-000000000000',
  appIdUri: 'https://graph.microsoft.com',
  scopes: Object.freeze(['User.Read']),
});

/** The `iss` of Graph access tokens: Entra issues Graph v1.0 tokens, also from its v2.0 endpoint. */
export const graphIssuer = (tenant) => `https://sts.windows.net/${tenant}/`;

/** Scopes that belong to the OpenID provider itself, never to a resource. */
export const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

const splitScope = (scope) => String(scope ?? '').split(' ').filter(Boolean);

/**
 * The resource catalogue of a normalised registration list.
 *
 * A resource is `{ kind: 'api' | 'extra' | 'graph', name, appId, appIdUri, scopes, owner }`,
 * where `owner` is the registration that defines it (none for Graph).
 */
export function buildCatalogue(regs) {
  const byUri = new Map();
  // App roles per resource URI, keyed by user oid.
  const rolesByUri = new Map();
  const add = (resource, roles) => {
    if (byUri.has(resource.appIdUri)) throw new Error(`duplicate app ID URI ${resource.appIdUri}`);
    byUri.set(resource.appIdUri, Object.freeze(resource));
    rolesByUri.set(resource.appIdUri, roles);
  };

  add({ kind: 'graph', ...GRAPH, scopes: [...GRAPH.scopes] }, new Map());
  for (const reg of regs) {
    add({
      kind: 'api',
      name: reg.name,
      appId: reg.apiAppId,
      appIdUri: reg.apiAppIdUri,
      scopes: reg.scopes,
      owner: reg,
    }, new Map(reg.users.map((u) => [u.oid, u.roles])));
    for (const api of reg.apis) {
      const oidOf = new Map(reg.users.map((u) => [u.username.toLowerCase(), u.oid]));
      const roles = new Map(Object.entries(api.roles)
        .map(([username, list]) => [oidOf.get(username.toLowerCase()), list]));
      add({
        kind: 'extra',
        name: api.name,
        appId: api.appId,
        appIdUri: api.appIdUri,
        scopes: api.scopes,
        owner: reg,
      }, roles);
    }
  }

  // A bare Graph scope name (Entra treats unprefixed, non-OIDC scopes as Graph's).
  const graphScopeNames = new Map(GRAPH.scopes.map((s) => [s.toLowerCase(), s]));

  /** The resource URI a single scope value points at, if any. */
  const uriOfScope = (scope) => {
    if (OIDC_SCOPES.has(scope)) return undefined;
    if (graphScopeNames.has(scope.toLowerCase())) return GRAPH.appIdUri;
    for (const uri of byUri.keys()) {
      if (scope.startsWith(`${uri}/`)) return uri;
    }
    return undefined;
  };

  return {
    /** The resource with this app ID URI (the resource indicator). */
    get: (uri) => byUri.get(uri),

    /** Distinct resource URIs named by the scopes of a space-separated `scope` string. */
    urisInScope(scope) {
      return [...new Set(splitScope(scope).map(uriOfScope).filter(Boolean))];
    },

    /**
     * Whether `reg`'s client may obtain tokens for `resource`: its own API, the APIs it declares
     * and Graph. Other registrations' own APIs stay reachable, as they always were here.
     */
    allowedFor(reg, resource) {
      if (!resource) return false;
      if (resource.kind === 'extra') return resource.owner === reg;
      return true;
    },

    /**
     * The scope string oidc-provider's resource server is given: every scope value that names
     * one of this resource's scopes (with its URI prefix, `.default`, and for Graph the bare name).
     */
    resourceServerScope(resource) {
      const values = [...resource.scopes, '.default'].map((s) => `${resource.appIdUri}/${s}`);
      if (resource.kind === 'graph') values.push(...resource.scopes);
      return values.join(' ');
    },

    /** The `scp` claim for granted scope values: bare names, `.default` expanded. */
    scpOf(resource, granted) {
      const scp = new Set();
      for (const value of granted) {
        const name = value.startsWith(`${resource.appIdUri}/`)
          ? value.slice(resource.appIdUri.length + 1)
          : graphScopeNames.get(value.toLowerCase()) ?? value;
        if (name === '.default') resource.scopes.forEach((s) => scp.add(s));
        else scp.add(name);
      }
      return [...scp];
    },

    /** The app roles the user `oid` holds on `resource` (empty when none). */
    rolesOf(resource, oid) {
      return [...(rolesByUri.get(resource.appIdUri)?.get(oid) ?? [])];
    },
  };
}
