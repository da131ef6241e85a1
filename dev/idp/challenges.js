// Step-up and claims challenges: what a request may ask of the sign-in beyond "who is this", when
// that needs the person at the login page again, and what the access tokens then carry.
//
// 1. Step-up (RFC 9470) with `acr_values` on the authorization request. The authentication levels
//    (ACRs) this IdP knows, weakest first:
//
//      urn:gatehouse:pwd   a sign-in with a password (what every normal sign-in gets)
//      urn:gatehouse:mfa   a sign-in for a request with acr_values=urn:gatehouse:mfa; the second
//                          factor is emulated: the login page is shown (again), the password is it
//
//    A request asks for the first value of `acr_values` that the IdP knows (none known: pwd). When
//    the sign-in session's level is lower, the login page is shown again (a silent request,
//    prompt=none, gets interaction_required); otherwise the session's level is kept, so a session
//    signed in with MFA gives `acr` urn:gatehouse:mfa to later sign-ins too. ID and access tokens
//    carry `acr` and `auth_time` (an API checks them in the access token).
//
// 2. Claims challenges (Entra's Conditional Access authentication contexts and client
//    capabilities, as used by CAE) with the OIDC `claims` parameter (OIDC Core §5.5), on the
//    authorization request and on the token request (code and refresh grants):
//
//      {"access_token":{"acrs":{"essential":true,"value":"c1"}}}    (or "values":["c1","c2"])
//      {"access_token":{"xms_cc":{"values":["cp1"]}}}
//
//    `acrs` asks for authentication contexts (AUTH_CONTEXTS below): a silent one is granted on
//    request, also by a refresh grant; one that needs interaction is granted only by a sign-in on
//    the login page (an authorization request naming it always shows the page), and a token request
//    asking for it is refused with interaction_required (AADSTS50076) unless its sign-in already
//    has it. `xms_cc` declares client capabilities. What a sign-in was granted stays with its
//    authorization code and refresh tokens (in their `claims`, which oidc-provider carries through
//    rotations), and its access tokens carry `acrs` and `xms_cc` as lists.

import { errors, interactionPolicy } from 'oidc-provider';

import { entraErrorBody, refuse } from './entra-errors.js';

const { Check } = interactionPolicy;

export const ACR_PWD = 'urn:gatehouse:pwd';
export const ACR_MFA = 'urn:gatehouse:mfa';

/** The ACRs this IdP supports, weakest first, with the `amr` of a sign-in that reaches each. */
export const ACRS = Object.freeze([
  Object.freeze({ acr: ACR_PWD, amr: Object.freeze(['pwd']) }),
  Object.freeze({ acr: ACR_MFA, amr: Object.freeze(['pwd', 'mfa']) }),
]);

/**
 * The Conditional Access authentication contexts this tenant has, by id (what `acrs` names), and
 * whether the sign-in session satisfies each without the person (`silent`: think of a policy the
 * device or network already meets) or only by signing in again (a policy asking for MFA).
 * `startIdp({ authContexts })` replaces this table.
 */
export const AUTH_CONTEXTS = Object.freeze({
  c1: Object.freeze({ name: 'Trusted location', silent: true }),
  c2: Object.freeze({ name: 'Multi-factor authentication', silent: false }),
});

const rank = (acr) => Math.max(0, ACRS.findIndex((a) => a.acr === acr));

/** The ACR an authorization request asks for: the first supported value of acr_values, or pwd. */
export function requestedAcr(params) {
  const values = String(params?.acr_values ?? '').split(' ').filter(Boolean);
  return values.find((v) => ACRS.some((a) => a.acr === v)) ?? ACR_PWD;
}

/** The `amr` of a sign-in that reached `acr`. */
export const amrFor = (acr) => [...(ACRS.find((a) => a.acr === acr) ?? ACRS[0]).amr];

const MFA_TEXT = 'Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access';

/** The error description of a silent authorization request that needs the login page. */
export const MFA_REQUIRED = `AADSTS50076: ${MFA_TEXT} the requested resource.`;

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const unique = (list) => [...new Set(list)];

/** Checks and freezes an authentication context table (see AUTH_CONTEXTS). */
export function normaliseAuthContexts(table = AUTH_CONTEXTS) {
  if (!isObject(table)) throw new Error('authContexts must be an object: { c1: { silent: true }, … }');
  const out = {};
  for (const [id, ctx] of Object.entries(table)) {
    if (!/^\S+$/.test(id)) throw new Error(`authentication context id ${JSON.stringify(id)} is not a word`);
    if (!isObject(ctx) || typeof ctx.silent !== 'boolean') {
      throw new Error(`authentication context ${id} needs silent: true or false`);
    }
    out[id] = Object.freeze({ name: String(ctx.name ?? id), silent: ctx.silent });
  }
  return Object.freeze(out);
}

/** `value` and `values` of one requested claim (`{"essential":true,"values":[…]}`) as a list. */
function requestedValues(request, name) {
  if (request === undefined || request === null) return [];
  const where = `claims.access_token.${name}`;
  if (!isObject(request)) throw new errors.InvalidRequest(`${where} should be an object`);
  const out = [];
  if (request.value !== undefined) {
    if (typeof request.value !== 'string') throw new errors.InvalidRequest(`${where}.value should be a string`);
    out.push(request.value);
  }
  if (request.values !== undefined) {
    if (!Array.isArray(request.values) || !request.values.every((v) => typeof v === 'string')) {
      throw new errors.InvalidRequest(`${where}.values should be an array of strings`);
    }
    out.push(...request.values);
  }
  return unique(out);
}

/** What a token's `claims` says its sign-in was granted: `{ acrs: [...], xmsCc: [...] }`. */
export function grantedOf(source) {
  const at = source?.claims?.access_token ?? {};
  return { acrs: [...(at.acrs?.values ?? [])], xmsCc: [...(at.xms_cc?.values ?? [])] };
}

/** `claims` (a token's OIDC claims object) with `granted` added to its access_token member. */
function withGranted(claims, granted) {
  const had = grantedOf({ claims });
  const acrs = unique([...had.acrs, ...granted.acrs]);
  const xmsCc = unique([...had.xmsCc, ...granted.xmsCc]);
  const accessToken = { ...(claims?.access_token ?? {}) };
  if (acrs.length) accessToken.acrs = { essential: true, values: acrs };
  if (xmsCc.length) accessToken.xms_cc = { values: xmsCc };
  return { ...(claims ?? {}), access_token: accessToken };
}

/**
 * The step-up and claims-challenge machinery of one IdP.
 *
 * @param {object} deps
 * @param {Record<string, {name: string, silent: boolean}>} deps.authContexts normalised table
 * @param {ReturnType<import('./resources.js').buildCatalogue>} deps.catalogue
 * @param {Map<string, object>} deps.byClientId normalised registrations by client id
 */
export function createChallenges({ authContexts, catalogue, byClientId }) {
  const known = Object.keys(authContexts);
  const needsInteraction = (id) => !authContexts[id]?.silent;

  /**
   * Parses a `claims` parameter: `{ acrs, xmsCc }` (lists), or an invalid_request error for
   * anything that is not a JSON object of objects, or an unknown authentication context.
   */
  function parseClaims(raw) {
    let claims;
    try {
      claims = JSON.parse(raw);
    } catch {
      throw new errors.InvalidRequest('could not parse the claims parameter JSON');
    }
    if (!isObject(claims)) throw new errors.InvalidRequest('claims parameter should be a JSON object');
    for (const member of ['access_token', 'id_token', 'userinfo']) {
      if (claims[member] !== undefined && !isObject(claims[member])) {
        throw new errors.InvalidRequest(`claims.${member} should be an object`);
      }
    }
    const acrs = requestedValues(claims.access_token?.acrs, 'acrs');
    const unknown = acrs.filter((id) => !authContexts[id]);
    if (unknown.length) {
      throw new errors.InvalidRequest(`unknown authentication context ${unknown.join(', ')} in claims.access_token.acrs (this tenant has ${known.join(', ') || 'none'})`);
    }
    return { acrs, xmsCc: requestedValues(claims.access_token?.xms_cc, 'xms_cc') };
  }

  const requestedBy = (params) => (params?.claims === undefined
    ? { acrs: [], xmsCc: [] } : parseClaims(params.claims));

  /**
   * Entra's answer (HTTP 400) to a token request asking for an authentication context that only a
   * sign-in can satisfy. `claims` is what to send with the authorization request that fixes it.
   */
  function interactionRequiredBody(appId, acrs) {
    return entraErrorBody({
      error: 'interaction_required',
      code: 50076,
      message: `${MFA_TEXT} '${appId}'.`,
      suberror: 'basic_action',
      claims: JSON.stringify({ access_token: { acrs: { essential: true, values: acrs } } }),
    });
  }

  /** The app id of the API a token request is for (as AADSTS50076 names it). */
  function targetAppId(ctx, source) {
    const { params, client } = ctx.oidc;
    const uri = params.resource
      ?? catalogue.urisInScope(params.scope)[0]
      ?? [source.resource].flat().find(Boolean);
    return catalogue.get(uri)?.appId ?? byClientId.get(client.clientId)?.apiAppId ?? client.clientId;
  }

  return {
    /** oidc-provider `extraParams` validator of the authorization request's `claims`. */
    async validateClaimsParameter(ctx, value) {
      if (value !== undefined) parseClaims(value);
    },

    /** The login prompt's checks: acr_values above the session's level; contexts needing a sign-in. */
    loginChecks() {
      return [
        new Check(
          'acr_step_up',
          MFA_REQUIRED,
          'interaction_required',
          (ctx) => {
            const { oidc } = ctx;
            if (!oidc.session.accountId || oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
            return rank(oidc.session.acr) < rank(requestedAcr(oidc.params))
              ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
          },
          (ctx) => ({ acr: requestedAcr(ctx.oidc.params) }),
        ),
        new Check(
          'auth_context',
          MFA_REQUIRED,
          'interaction_required',
          (ctx) => {
            const { oidc } = ctx;
            if (!oidc.session.accountId || oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
            return requestedBy(oidc.params).acrs.some(needsInteraction)
              ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
          },
          (ctx) => ({ auth_contexts: requestedBy(ctx.oidc.params).acrs.filter(needsInteraction) }),
        ),
      ];
    },

    /** The authentication contexts (with their names) of an authorization request that need a sign-in. */
    interactiveContexts(params) {
      return requestedBy(params).acrs.filter(needsInteraction)
        .map((id) => ({ id, name: authContexts[id].name }));
    },

    /**
     * Called when the authorization request is about to be answered (from loadExistingGrant):
     * what its `claims` asks for is granted (the login checks have made sure a context needing a
     * sign-in got one), and goes into the authorization code through `ctx.oidc.claims`.
     */
    grantAuthorizationClaims(ctx) {
      const requested = requestedBy(ctx.oidc.params);
      if (!requested.acrs.length && !requested.xmsCc.length) return;
      ctx.oidc.claims = withGranted(ctx.oidc.claims, requested);
    },

    /**
     * Wraps the authorization_code and refresh_token grants: the token request's `claims` is
     * checked (invalid_request), a context needing a sign-in that this sign-in lacks is refused
     * with AADSTS50076, and the rest is added to the code or refresh token before `next` issues
     * the tokens (and, for a refresh token, carries it on to the rotated one).
     */
    claimsGrant(next, model) {
      return async function claimsChallenge(ctx) {
        const { params, client, provider } = ctx.oidc;
        if (params.claims === undefined) return next(ctx);
        const requested = parseClaims(params.claims);
        if (!requested.acrs.length && !requested.xmsCc.length) return next(ctx);
        const value = model === 'RefreshToken' ? params.refresh_token : params.code;
        const source = value && await provider[model].find(value);
        // Unknown, foreign, expired or used: `next` reports it as usual.
        if (!source || source.clientId !== client.clientId || !source.isValid) return next(ctx);
        const had = grantedOf(source);
        if (requested.acrs.some((id) => needsInteraction(id) && !had.acrs.includes(id))) {
          refuse(ctx, interactionRequiredBody(targetAppId(ctx, source), unique([...had.acrs, ...requested.acrs])));
          return undefined;
        }
        source.claims = withGranted(source.claims, requested);
        await source.save();
        return next(ctx);
      };
    },

    /**
     * oidc-provider's `extraTokenClaims`: what an access token gets from the sign-in it comes from
     * (the authorization code, or the refresh token, which carries it on through rotations):
     * `acr`, `auth_time` (seconds), and the granted `acrs` and `xms_cc` (lists, when any).
     */
    async extraTokenClaims(ctx, token) {
      if (token.kind !== 'AccessToken') return undefined;
      const { entities, params } = ctx.oidc;
      const source = params.grant_type === 'refresh_token' ? entities.RefreshToken : entities.AuthorizationCode;
      if (!source) return undefined;
      const claims = {};
      if (source.acr) claims.acr = source.acr;
      if (source.authTime) claims.auth_time = source.authTime;
      const { acrs, xmsCc } = grantedOf(source);
      if (acrs.length) claims.acrs = acrs;
      if (xmsCc.length) claims.xms_cc = xmsCc;
      return claims;
    },
  };
}
