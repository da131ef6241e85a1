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
//
// The second half of this file is the end of the session as Entra ends it for single-page apps:
// a refresh token issued to a SPA lives a fixed time (24 h) from the sign-in, rotation does not
// extend it, every token response that carries one says how long it has left
// (`refresh_token_expires_in`), and one presented after that time is refused with AADSTS700084.

import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import { errors } from 'oidc-provider';

import { consentRequiredBody } from './consent.js';
import { entraErrorBody, refuse } from './entra-errors.js';
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
      refuse(ctx, consentRequiredBody(client.clientId, reg.name));
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

// ------------------------------------------------------------------ the SPA session's end

/**
 * oidc-provider's `ttl.RefreshToken`: `seconds` for a refresh token from a sign-in (an
 * authorization code), and what is left of the presented one for a rotated refresh token, so that
 * every refresh token of a sign-in expires at the same moment, as Entra's SPA refresh tokens do.
 * That holds for DPoP-bound refresh tokens too (oidc-provider's own default lets those be
 * extended by rotation), so a session ends at the same time with or without DPoP.
 */
export function spaRefreshTokenTtl(seconds) {
  return (ctx) => {
    const rotated = ctx?.oidc?.entities?.RotatedRefreshToken;
    if (rotated) return Math.max(1, rotated.remainingTTL);
    return seconds;
  };
}

/** How long expired refresh tokens stay known, so that they get AADSTS700084, not "not found". */
export const EXPIRED_REFRESH_TOKEN_RETENTION = 24 * 3600;

/**
 * oidc-provider's in-memory adapter, except that refresh tokens are kept for a day after they
 * expire (their `exp` still makes oidc-provider treat them as expired): the refresh grant can then
 * tell an expired refresh token (AADSTS700084, with the time of the sign-in) from an unknown one.
 */
export class RetainingMemoryAdapter extends MemoryAdapter {
  async upsert(id, payload, expiresIn) {
    const keep = this.model === 'RefreshToken' && typeof expiresIn === 'number'
      ? expiresIn + EXPIRED_REFRESH_TOKEN_RETENTION
      : expiresIn;
    return super.upsert(id, payload, keep);
  }
}

/** A lifetime in .NET's TimeSpan format, as Entra writes it: 86400 → "1.00:00:00", 90 → "00:01:30". */
export function timeSpan(seconds) {
  const pad = (n) => String(n).padStart(2, '0');
  const days = Math.floor(seconds / 86400);
  const hms = `${pad(Math.floor((seconds % 86400) / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
  return days ? `${days}.${hms}` : hms;
}

/** A time as .NET's round-trip format writes it in Entra's messages: 2025-01-01T12:00:00.0000000Z. */
const roundTrip = (epochSeconds) => new Date(epochSeconds * 1000).toISOString()
  .replace(/\.\d{3}Z$/, '.0000000Z');

/**
 * Entra's answer (HTTP 400) to a SPA refresh token presented after its fixed lifetime.
 * `issuedAt` is the sign-in (the first refresh token's issue time), `lifetime` in seconds.
 */
export function spaRefreshTokenExpiredBody(issuedAt, lifetime) {
  return entraErrorBody({
    error: 'invalid_grant',
    code: 700084,
    message: `The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of ${timeSpan(lifetime)}, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page. The token was issued on ${roundTrip(issuedAt)}.`,
    suberror: 'bad_token',
  });
}

/**
 * Wraps the refresh_token grant: an expired refresh token of the client is refused with
 * AADSTS700084 (oidc-provider would say only "refresh token is expired"). Everything else, unknown
 * and used tokens included, goes on to `next`.
 */
export function spaLifetimeGrant(next) {
  return async function spaRefreshLifetime(ctx) {
    const { params, client, provider } = ctx.oidc;
    if (params.refresh_token) {
      const refreshToken = await provider.RefreshToken.find(params.refresh_token, { ignoreExpiration: true });
      if (refreshToken && refreshToken.clientId === client.clientId && refreshToken.isExpired) {
        refuse(ctx, spaRefreshTokenExpiredBody(refreshToken.iiat, refreshToken.exp - refreshToken.iiat));
        return undefined;
      }
    }
    return next(ctx);
  };
}

/**
 * Wraps a grant that may issue a refresh token: a response with one also carries
 * `refresh_token_expires_in`, the seconds that refresh token (and so the session) has left, as
 * Entra sends it to SPAs.
 */
export function withRefreshTokenExpiresIn(next) {
  return async function refreshTokenExpiresIn(ctx) {
    const result = await next(ctx);
    const issued = ctx.oidc.entities.RefreshToken;
    if (ctx.body?.refresh_token && issued) {
      // A token saved just now has no `exp` of its own yet; remainingTTL then is the lifetime
      // it was saved with.
      ctx.body.refresh_token_expires_in = Math.max(0, issued.remainingTTL);
    }
    return result;
  };
}
