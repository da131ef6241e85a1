// DPoP (RFC 9449) on the provider side: oidc-provider's `features.dPoP`, switched on by
// `startIdp({ dpop })`, and the handle a test uses to demand nonces while the IdP runs.
//
// Entra ID does not speak DPoP, so the default IdP leaves it off: its discovery document then
// lists no `dpop_signing_alg_values_supported` and a client in `auto` mode stays with Bearer.
//
// With DPoP on, every client may send proofs (oidc-provider binds the tokens of any request that
// carries one); registrations marked `dpop` (registrations.js) must. Access tokens for Microsoft
// Graph, and for a registration marked `dpop: 'refresh-token'`, stay Bearer tokens while the
// refresh token is bound to the key (RFC 9449 §5): see `accessTokenStaysBearer`.

import * as crypto from 'node:crypto';

// oidc-provider keeps its DPoP nonce source in private state that only its own modules read
// (through this accessor), and builds it once from `features.dPoP.nonceSecret`. Swapping it is
// the only way to end the nonces already handed out ("a nonce demanded mid-session") or to stop
// giving any; startIdp checks at start-up that the accessor still finds it (oidc-provider 9.13).
import ServerChallenge from 'oidc-provider/lib/helpers/challenge.js';
import instance from 'oidc-provider/lib/helpers/weak_cache.js';

/**
 * When the token endpoint demands a nonce in the proof:
 * `always` every request (use_dpop_nonce + DPoP-Nonce until the proof has a current one),
 * `optional` never, but nonces are handed out (DPoP-Nonce) and checked when a proof carries one,
 * `never` no nonces at all (a proof with one is refused as invalid_dpop_proof).
 */
export const DPOP_NONCE_MODES = Object.freeze(['always', 'optional', 'never']);

/** The algorithms proofs may be signed with: the library's and the dev API's only one. */
export const DPOP_ALGS = Object.freeze(['ES256']);

/**
 * `startIdp`'s `dpop` option (or IDP_DPOP) as `{ nonce }`, or undefined when DPoP is off.
 * `true` means `{ nonce: 'always' }`.
 */
export function normaliseDpop(option) {
  if (option === undefined || option === false || option === null) return undefined;
  const settings = option === true ? {} : option;
  if (typeof settings !== 'object') {
    throw new Error(`dpop must be true, false or { nonce }, got ${JSON.stringify(option)}`);
  }
  const nonce = settings.nonce ?? 'always';
  if (!DPOP_NONCE_MODES.includes(nonce)) {
    throw new Error(`dpop.nonce must be one of ${DPOP_NONCE_MODES.join(', ')}, got ${JSON.stringify(nonce)}`);
  }
  return { nonce };
}

/** IDP_DPOP: unset/`off` → off; `on` or a nonce mode → on with that mode (`on` = always). */
export function dpopFromEnv(raw) {
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = raw.trim().toLowerCase();
  if (['off', 'false', '0', 'no'].includes(value)) return false;
  if (['on', 'true', '1', 'yes'].includes(value)) return true;
  if (DPOP_NONCE_MODES.includes(value)) return { nonce: value };
  throw new Error(`IDP_DPOP must be off, on, ${DPOP_NONCE_MODES.join(', ')}; got ${JSON.stringify(raw)}`);
}

/**
 * oidc-provider's `features.dPoP` for `settings` (from normaliseDpop). The nonce mode is read on
 * every request, so `dpopControl(...).setNonce` changes it at run time.
 */
export function dpopFeature(settings) {
  if (!settings) return { enabled: false };
  return {
    enabled: true,
    // Always configured, so that CORS exposes DPoP-Nonce whatever the mode (and the mode can
    // change at run time); `never` removes the nonce source instead (dpopControl).
    nonceSecret: crypto.randomBytes(32),
    requireNonce: () => settings.nonce === 'always',
    allowReplay: false,
  };
}

/**
 * Whether an access token stays a Bearer token although the request carried a proof (RFC 9449
 * §5: the refresh token is still bound): tokens for Microsoft Graph, which takes no DPoP, and
 * every token of a registration marked `dpop: 'refresh-token'`.
 */
export function accessTokenStaysBearer(resource, reg) {
  return resource?.kind === 'graph' || reg?.dpop === 'refresh-token';
}

/**
 * The run-time handle `startIdp` returns as `idp.dpop`:
 * - `nonce`: the current nonce mode;
 * - `setNonce(mode)`: switch mode (`always`, `optional`, `never`);
 * - `rotateNonce()`: end every nonce handed out so far; the next proof with one gets
 *   use_dpop_nonce and a new DPoP-Nonce (a nonce demanded mid-session). Returns nothing.
 */
export function dpopControl(provider, settings) {
  const internals = instance(provider);
  if (!internals?.DPoPNonces) {
    throw new Error('oidc-provider internals changed: no DPoP nonce source found (dev/idp/dpop-server.js)');
  }
  const install = () => {
    internals.DPoPNonces = new ServerChallenge(crypto.randomBytes(32), 'DPoP');
  };
  const apply = () => {
    if (settings.nonce === 'never') internals.DPoPNonces = undefined;
    else if (!internals.DPoPNonces) install();
  };
  apply();
  return {
    get nonce() { return settings.nonce; },
    setNonce(mode) {
      if (!DPOP_NONCE_MODES.includes(mode)) {
        throw new Error(`nonce mode must be one of ${DPOP_NONCE_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
      }
      settings.nonce = mode;
      apply();
    },
    rotateNonce() {
      if (settings.nonce !== 'never') install();
    },
  };
}
