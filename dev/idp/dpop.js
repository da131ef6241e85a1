// DPoP (RFC 9449) on the client side, for tests: a P-256 key and the proofs a client sends with
// it. Used by the dev IdP's own tests and reusable by the end-to-end tests, which play a thief
// or a replaying client next to the app. Node's WebCrypto only (no dependency).
//
//     import { generateDpopKey, makeProof } from '../../dev/idp/dpop.js';
//     const key = await generateDpopKey();
//     const proof = await makeProof({ key, htm: 'POST', htu: tokenEndpoint, nonce });
//     fetch(tokenEndpoint, { method: 'POST', headers: { DPoP: proof }, body });
//     // at a resource: makeProof({ key, htm: 'GET', htu: url, accessToken })  (adds `ath`)

import * as crypto from 'node:crypto';

const { subtle } = crypto.webcrypto;
const ES256 = { name: 'ECDSA', namedCurve: 'P-256' };

/** The RFC 7638 thumbprint (base64url SHA-256 of the required members in order) of a public JWK. */
export function jwkThumbprint(jwk) {
  const members = {
    EC: ['crv', 'kty', 'x', 'y'],
    RSA: ['e', 'kty', 'n'],
    OKP: ['crv', 'kty', 'x'],
  }[jwk.kty];
  if (!members) throw new Error(`no thumbprint for kty ${jwk.kty}`);
  const canonical = `{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify(jwk[m])}`).join(',')}}`;
  return crypto.createHash('sha256').update(canonical).digest('base64url');
}

/**
 * A new ES256 key pair as a browser client holds it (the private key not extractable).
 * Resolves to `{ privateKey, publicKey, jwk, thumbprint }`; `jwk` is the public key
 * `{ kty: 'EC', crv: 'P-256', x, y }` and `thumbprint` its RFC 7638 thumbprint (`dpop_jkt`,
 * and the `cnf.jkt` of the tokens bound to it).
 */
export async function generateDpopKey() {
  const { privateKey, publicKey } = await subtle.generateKey(ES256, false, ['sign', 'verify']);
  const { kty, crv, x, y } = await subtle.exportKey('jwk', publicKey);
  const jwk = { kty, crv, x, y };
  return { privateKey, publicKey, jwk, thumbprint: jwkThumbprint(jwk) };
}

const b64u = (value) => Buffer.from(value).toString('base64url');

/** base64url(SHA-256(accessToken)): a proof's `ath`. */
export const accessTokenHash = (accessToken) => crypto.createHash('sha256')
  .update(accessToken).digest('base64url');

/**
 * A DPoP proof JWT signed with `key` (from generateDpopKey): header `typ: dpop+jwt`, `alg: ES256`,
 * `jwk`; payload `htm`, `htu` (query and fragment removed, as RFC 9449 §4.2 wants), `iat`, `jti`,
 * and `nonce` / `ath` (from `accessToken`) when given.
 *
 * `iat` (seconds, default now), `jti` (default random), `header` and `claims` (merged over the
 * defaults) let a test make a proof that must be refused; `keepQuery: true` keeps the query in
 * `htu`.
 */
export async function makeProof({
  key, htm, htu, nonce, accessToken, iat, jti, header = {}, claims = {}, keepQuery = false,
}) {
  if (!key?.privateKey || !key.jwk) throw new TypeError('makeProof needs a key from generateDpopKey()');
  if (!htm || !htu) throw new TypeError('makeProof needs htm and htu');
  const url = new URL(htu);
  url.hash = '';
  if (!keepQuery) url.search = '';
  const payload = {
    htm,
    htu: url.href,
    iat: iat ?? Math.floor(Date.now() / 1000),
    jti: jti ?? crypto.randomUUID(),
    ...(nonce === undefined ? {} : { nonce }),
    ...(accessToken === undefined ? {} : { ath: accessTokenHash(accessToken) }),
    ...claims,
  };
  const protectedHeader = {
    typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk, ...header,
  };
  const input = `${b64u(JSON.stringify(protectedHeader))}.${b64u(JSON.stringify(payload))}`;
  // WebCrypto's ECDSA signature is r || s, which is what JWS wants for ES256.
  const signature = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key.privateKey, Buffer.from(input));
  return `${input}.${b64u(signature)}`;
}
