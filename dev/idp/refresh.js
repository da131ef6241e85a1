// Entra's multi-resource refresh tokens on top of oidc-provider's refresh_token grant.
//
// An Entra refresh token is not tied to the API it was first issued for: the app may redeem it
// with `scope=api://<other API>/...` (or `.../.default`, or a Graph scope) for any API its
// registration holds permissions on, and gets an access token for that API (one per request)
// plus a new refresh token. oidc-provider instead only allows the scopes and resources of the
// original authorization. The wrapper below therefore widens the presented refresh token and its
// grant to the requested API, once the user's consent for it is established, and then lets the
// built-in grant do the rest (rotation, reuse detection, token issuance).
//
// Without consent it answers like Entra (HTTP 400, AADSTS65001) and leaves the refresh token
// untouched, so the app keeps using it for its other APIs.

import { errors } from 'oidc-provider';

import { consentRequiredBody } from './consent.js';
import { OIDC_SCOPES } from './resources.js';

/**
 * Wraps oidc-provider's built-in refresh_token grant handler.
 *
 * @param {(ctx: object) => Promise<void>} builtIn the built-in handler
 * @param {object} deps
 * @param {Map<string, object>} deps.byClientId normalised registrations by client id
 * @param {ReturnType<import('./resources.js').buildCatalogue>} deps.catalogue
 * @param {import('./consent.js').ConsentStore} deps.consent
 */
export function entraRefreshGrant(builtIn, { byClientId, catalogue, consent }) {
  return async function refreshTokenGrant(ctx) {
    const { oidc } = ctx;
    const { params, client, provider } = oidc;
    const reg = byClientId.get(client.clientId);
    const targets = params.resource ? [params.resource] : catalogue.urisInScope(params.scope);
    if (targets.length > 1) {
      throw new errors.InvalidScope(
        'scopes for more than one resource (API) were requested; request one API at a time',
        targets.join(' '),
      );
    }
    const resource = catalogue.get(targets[0]);
    // No known resource named: the built-in grant answers (invalid_scope for unknown scopes).
    if (!reg || !resource) return builtIn(ctx);
    if (!catalogue.allowedFor(reg, resource)) {
      throw new errors.InvalidTarget(`the application has no permission on ${resource.name} (${resource.appIdUri})`);
    }

    const refreshToken = await provider.RefreshToken.find(params.refresh_token, { ignoreExpiration: true });
    // Unknown, foreign, expired or already used tokens: the built-in grant reports them (and
    // revokes the grant on reuse).
    if (!refreshToken || refreshToken.clientId !== client.clientId || refreshToken.isExpired
      || refreshToken.consumed) {
      return builtIn(ctx);
    }

    if (!consent.has(client.clientId, refreshToken.accountId, resource.appIdUri)) {
      // Set the body rather than throw: oidc-provider's errors carry only error and
      // error_description, and Entra's answer has more members.
      ctx.status = 400;
      ctx.body = consentRequiredBody(client.clientId, reg.name);
      return undefined;
    }

    await widen(provider, refreshToken, resource, [...oidc.requestParamScopes], catalogue);
    params.resource = resource.appIdUri;
    return builtIn(ctx);
  };
}

/**
 * Adds `resource` and the requested scopes that belong to it (or to OpenID Connect) to the
 * refresh token and to its grant, so that the built-in grant accepts them. Other requested
 * scopes are left out: the built-in grant then refuses them with invalid_scope.
 */
async function widen(provider, refreshToken, resource, requested, catalogue) {
  const serverScopes = new Set(catalogue.resourceServerScope(resource).split(' '));
  const resourceScopes = requested.filter((s) => serverScopes.has(s));
  const oidcScopes = requested.filter((s) => OIDC_SCOPES.has(s));

  const resources = [refreshToken.resource].flat().filter(Boolean);
  const scopes = refreshToken.scopes;
  const newScopes = [...resourceScopes, ...oidcScopes].filter((s) => !scopes.has(s));
  if (!resources.includes(resource.appIdUri) || newScopes.length) {
    // The original resource stays first: a refresh without `scope` keeps serving it.
    refreshToken.resource = [...new Set([...resources, resource.appIdUri])];
    refreshToken.scope = [...scopes, ...newScopes].join(' ');
    await refreshToken.save();
  }

  const grant = await provider.Grant.find(refreshToken.grantId);
  if (!grant) return; // the built-in grant reports the missing grant
  if (resourceScopes.length) grant.addResourceScope(resource.appIdUri, resourceScopes.join(' '));
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
  await grant.save();
}
