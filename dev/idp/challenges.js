// Step-up authentication (RFC 9470): the authentication levels (ACRs) this IdP knows, which one a
// request asks for, when a signed-in person must sign in again to reach it, and the `acr` and
// `auth_time` claims that access tokens carry (an API checks them there).
//
// The levels, weakest first:
//
//   urn:gatehouse:pwd   a sign-in with a password (what every normal sign-in gets)
//   urn:gatehouse:mfa   a sign-in for a request with acr_values=urn:gatehouse:mfa; the second
//                       factor is emulated: the login page is shown (again) and the password is it
//
// A request asks for the first value of `acr_values` that the IdP knows (none known: pwd). When
// the sign-in session's level is lower, the login page is shown again (a silent request,
// prompt=none, gets interaction_required); otherwise the session's level is kept, so a session
// signed in with MFA gives `acr` urn:gatehouse:mfa to later sign-ins too.

import { interactionPolicy } from 'oidc-provider';

const { Check } = interactionPolicy;

export const ACR_PWD = 'urn:gatehouse:pwd';
export const ACR_MFA = 'urn:gatehouse:mfa';

/** The ACRs this IdP supports, weakest first, with the `amr` of a sign-in that reaches each. */
export const ACRS = Object.freeze([
  Object.freeze({ acr: ACR_PWD, amr: Object.freeze(['pwd']) }),
  Object.freeze({ acr: ACR_MFA, amr: Object.freeze(['pwd', 'mfa']) }),
]);

const rank = (acr) => Math.max(0, ACRS.findIndex((a) => a.acr === acr));

/** The ACR an authorization request asks for: the first supported value of acr_values, or pwd. */
export function requestedAcr(params) {
  const values = String(params?.acr_values ?? '').split(' ').filter(Boolean);
  return values.find((v) => ACRS.some((a) => a.acr === v)) ?? ACR_PWD;
}

/** The `amr` of a sign-in that reached `acr`. */
export const amrFor = (acr) => [...(ACRS.find((a) => a.acr === acr) ?? ACRS[0]).amr];

export const MFA_REQUIRED = 'AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the requested resource.';

/**
 * The login prompt's check for acr_values: a session signed in at a lower level than the request
 * asks for must sign in again (once: the login just made counts).
 */
export const acrStepUpCheck = () => new Check(
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
);

/**
 * oidc-provider's `extraTokenClaims`: the claims an access token gets from the sign-in it comes
 * from (the authorization code, or the refresh token, which carries them on through rotations):
 * `acr` and `auth_time` (seconds).
 */
export async function extraTokenClaims(ctx, token) {
  if (token.kind !== 'AccessToken') return undefined;
  const { entities, params } = ctx.oidc;
  const source = params.grant_type === 'refresh_token' ? entities.RefreshToken : entities.AuthorizationCode;
  if (!source) return undefined;
  const claims = {};
  if (source.acr) claims.acr = source.acr;
  if (source.authTime) claims.auth_time = source.authTime;
  return claims;
}
