// DPoP (RFC 9449) at the development IdP: off by default (as in Entra), and with startIdp({ dpop })
// nonces, bound access and refresh tokens, and the registrations that need proofs.
// Run: node --test dev/idp/
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { accessTokenHash, generateDpopKey, jwkThumbprint, makeProof } from './dpop.js';
import { dpopFromEnv, normaliseDpop } from './dpop-server.js';
import { registrations } from './registrations.js';
import { startIdp } from './server.js';
import {
  APP_ORIGIN, Browser, REDIRECT_URI, SB, TIMEOUT_MS, decodeJwt, signIn, token, verifyJwt,
} from './testkit.js';

const DPOP_REG = registrations.find((r) => r.name === 'StudyBuilder DPoP');
const RT_ONLY_REG = registrations.find((r) => r.name === 'StudyBuilder DPoP refresh only');
const reader = SB.users.find((u) => u.username === 'reader@studybuilder.test');
const scopeOf = (reg) => `openid profile offline_access api://${reg.apiAppId}/API.call`;
const tokenEndpoint = (idp) => `${new URL(idp.issuer).origin}/${idp.tenant}/oauth2/v2.0/token`;

/** Signs the reader in to `reg` from a fresh browser; resolves to the code and its verifier. */
async function codeFor(idp, reg, params = {}) {
  return signIn(idp, new Browser(), {
    username: reader.username,
    password: reader.password,
    params: { client_id: reg.clientId, scope: scopeOf(reg), ...params },
  });
}

/** A token request with a proof made by `key` (none when `key` is null) and `nonce`. */
async function dpopToken(idp, form, { key, nonce, headers = {} } = {}) {
  const proof = key ? { DPoP: await makeProof({ key, htm: 'POST', htu: tokenEndpoint(idp), nonce }) } : {};
  return token(idp, form, { ...proof, ...headers });
}

const codeForm = (reg, { code, verifier }) => ({
  grant_type: 'authorization_code',
  client_id: reg.clientId,
  code,
  redirect_uri: REDIRECT_URI,
  code_verifier: verifier,
});

const refreshForm = (reg, refreshToken, scope) => ({
  grant_type: 'refresh_token',
  client_id: reg.clientId,
  refresh_token: refreshToken,
  ...(scope ? { scope } : {}),
});

/** Asks once without a nonce to learn the current one (the answer must be use_dpop_nonce). */
async function currentNonce(idp, form, key) {
  const { res, body } = await dpopToken(idp, form, { key });
  assert.equal(res.status, 400, JSON.stringify(body));
  assert.equal(body.error, 'use_dpop_nonce');
  const nonce = res.headers.get('dpop-nonce');
  assert.ok(nonce, 'DPoP-Nonce header with use_dpop_nonce');
  return nonce;
}

test('RFC 7638 thumbprint: the RFC\'s RSA example, and an EC key in crv, kty, x, y order', () => {
  const rsa = {
    kty: 'RSA',
    n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
    e: 'AQAB',
    alg: 'RS256',
    kid: '2011-04-29',
  };
  assert.equal(jwkThumbprint(rsa), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  const ec = { y: 'y', x: 'x', kty: 'EC', crv: 'P-256', extra: 'ignored' };
  const expected = crypto.createHash('sha256').update('{"crv":"P-256","kty":"EC","x":"x","y":"y"}').digest('base64url');
  assert.equal(jwkThumbprint(ec), expected);
});

test('makeProof: header, htu without query and fragment, ath, and a signature that verifies', async () => {
  const key = await generateDpopKey();
  const proof = await makeProof({
    key, htm: 'GET', htu: 'http://127.0.0.1:1/studies?x=1#f', accessToken: 'tok', nonce: 'n1',
  });
  const { header, payload, signingInput, signature } = decodeJwt(proof);
  assert.deepEqual(header, { typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk });
  assert.equal(key.jwk.d, undefined);
  assert.equal(payload.htu, 'http://127.0.0.1:1/studies');
  assert.equal(payload.htm, 'GET');
  assert.equal(payload.nonce, 'n1');
  assert.equal(payload.ath, accessTokenHash('tok'));
  assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 5);
  const other = await makeProof({ key, htm: 'GET', htu: 'http://127.0.0.1:1/' });
  assert.notEqual(decodeJwt(other).payload.jti, payload.jti, 'a fresh jti per proof');
  const publicKey = crypto.createPublicKey({ key: key.jwk, format: 'jwk' });
  assert.ok(crypto.verify('sha256', Buffer.from(signingInput), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature));
});

test('the dpop option and IDP_DPOP', () => {
  assert.equal(normaliseDpop(undefined), undefined);
  assert.equal(normaliseDpop(false), undefined);
  assert.deepEqual(normaliseDpop(true), { nonce: 'always' });
  assert.deepEqual(normaliseDpop({ nonce: 'optional' }), { nonce: 'optional' });
  assert.throws(() => normaliseDpop({ nonce: 'sometimes' }), /dpop.nonce/);
  assert.throws(() => normaliseDpop('yes'), /dpop must be/);
  assert.equal(dpopFromEnv(undefined), undefined);
  assert.equal(dpopFromEnv('off'), false);
  assert.equal(dpopFromEnv('on'), true);
  assert.deepEqual(dpopFromEnv('never'), { nonce: 'never' });
  assert.throws(() => dpopFromEnv('maybe'), /IDP_DPOP/);
});

describe('the default IdP has no DPoP, as Entra', () => {
  let idp;
  before(async () => { idp = await startIdp({ port: 0, quiet: true, appOrigins: [APP_ORIGIN] }); });
  after(async () => { await idp?.close(); });

  test('discovery lists no DPoP algorithms and the IdP has no DPoP handle', async () => {
    const doc = await (await fetch(idp.discoveryUrl, { signal: AbortSignal.timeout(TIMEOUT_MS) })).json();
    assert.equal(doc.dpop_signing_alg_values_supported, undefined);
    assert.equal(idp.dpop, undefined);
  });

  test('a proof is ignored: the DPoP registration gets Bearer tokens', async () => {
    const key = await generateDpopKey();
    const { res, body } = await dpopToken(idp, codeForm(DPOP_REG, await codeFor(idp, DPOP_REG)), { key });
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.token_type, 'Bearer');
    const at = await verifyJwt(idp, body.access_token);
    assert.equal(at.cnf, undefined);
    assert.equal(at.aud, DPOP_REG.apiAppId);
  });
});

describe('startIdp({ dpop: true })', () => {
  let idp;
  before(async () => {
    idp = await startIdp({ port: 0, quiet: true, appOrigins: [APP_ORIGIN], dpop: true });
  });
  after(async () => { await idp?.close(); });

  test('discovery lists ES256 only; the token endpoint lets a browser send DPoP and read DPoP-Nonce', async () => {
    const doc = await (await fetch(idp.discoveryUrl, { signal: AbortSignal.timeout(TIMEOUT_MS) })).json();
    assert.deepEqual(doc.dpop_signing_alg_values_supported, ['ES256']);
    assert.equal(idp.dpop.nonce, 'always');
    const preflight = await fetch(tokenEndpoint(idp), {
      method: 'OPTIONS',
      headers: {
        origin: APP_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,dpop',
      },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.match(preflight.headers.get('access-control-allow-headers'), /\bdpop\b/i);
  });

  test('code redemption: use_dpop_nonce first, then DPoP-bound tokens; refresh needs the same key', async () => {
    const key = await generateDpopKey();
    const form = codeForm(DPOP_REG, await codeFor(idp, DPOP_REG));

    const first = await dpopToken(idp, form, { key, headers: { origin: APP_ORIGIN } });
    assert.equal(first.res.status, 400);
    assert.equal(first.body.error, 'use_dpop_nonce');
    const nonce = first.res.headers.get('dpop-nonce');
    assert.ok(nonce);
    assert.match(first.res.headers.get('access-control-expose-headers'), /\bDPoP-Nonce\b/i);

    // Without a proof at all: refused, the code is not spent.
    const bare = await dpopToken(idp, form, { key: null });
    assert.equal(bare.res.status, 400);
    assert.equal(bare.body.error, 'invalid_grant');

    const { res, body } = await dpopToken(idp, form, { key, nonce, headers: { origin: APP_ORIGIN } });
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(res.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.equal(body.token_type, 'DPoP');
    const at = await verifyJwt(idp, body.access_token);
    assert.deepEqual(at.cnf, { jkt: key.thumbprint });
    assert.equal(at.aud, DPOP_REG.apiAppId);
    assert.equal(at.scp, 'API.call');
    assert.deepEqual(at.roles, reader.roles);
    assert.equal(decodeJwt(body.access_token).header.typ, 'JWT');
    assert.ok(body.refresh_token);
    const lifetime = body.refresh_token_expires_in;

    // The refresh token copied out of the app, redeemed without the key or with another key.
    const stolen = await dpopToken(idp, refreshForm(DPOP_REG, body.refresh_token), { key: null });
    assert.equal(stolen.res.status, 400);
    assert.equal(stolen.body.error, 'invalid_grant');
    const thief = await generateDpopKey();
    const thiefNonce = await currentNonce(idp, refreshForm(DPOP_REG, body.refresh_token), thief);
    const other = await dpopToken(idp, refreshForm(DPOP_REG, body.refresh_token), { key: thief, nonce: thiefNonce });
    assert.equal(other.res.status, 400);
    assert.equal(other.body.error, 'invalid_grant');

    // The owner of the key still refreshes (the refused attempts did not spend the token); the
    // session's end does not move.
    await new Promise((r) => { setTimeout(r, 1100); });
    const renewed = await dpopToken(idp, refreshForm(DPOP_REG, body.refresh_token), { key, nonce });
    assert.equal(renewed.res.status, 200, JSON.stringify(renewed.body));
    assert.equal(renewed.body.token_type, 'DPoP');
    assert.deepEqual((await verifyJwt(idp, renewed.body.access_token)).cnf, { jkt: key.thumbprint });
    assert.ok(renewed.body.refresh_token_expires_in < lifetime, 'rotation does not extend the session');
  });

  test('a replayed proof is refused', async () => {
    const key = await generateDpopKey();
    const form = codeForm(DPOP_REG, await codeFor(idp, DPOP_REG));
    const nonce = await currentNonce(idp, form, key);
    const proof = await makeProof({ key, htm: 'POST', htu: tokenEndpoint(idp), nonce });
    const ok = await token(idp, form, { DPoP: proof });
    assert.equal(ok.res.status, 200, JSON.stringify(ok.body));
    const again = await token(idp, refreshForm(DPOP_REG, ok.body.refresh_token), { DPoP: proof });
    assert.equal(again.res.status, 400);
    assert.equal(again.body.error, 'invalid_grant');
    // The same refresh with a new proof works: the refusal was the replay's.
    const fresh = await dpopToken(idp, refreshForm(DPOP_REG, ok.body.refresh_token), { key, nonce });
    assert.equal(fresh.res.status, 200, JSON.stringify(fresh.body));
  });

  test('a proof for another URL or method is invalid_dpop_proof', async () => {
    const key = await generateDpopKey();
    const form = codeForm(DPOP_REG, await codeFor(idp, DPOP_REG));
    const nonce = await currentNonce(idp, form, key);
    for (const [htm, htu] of [['GET', tokenEndpoint(idp)], ['POST', `${idp.issuer}/other`]]) {
      const proof = await makeProof({ key, htm, htu, nonce });
      const { res, body } = await token(idp, form, { DPoP: proof });
      assert.equal(res.status, 400, `${htm} ${htu}`);
      assert.equal(body.error, 'invalid_dpop_proof', `${htm} ${htu}`);
    }
  });

  test('dpop_jkt on the authorization request binds the code to that key', async () => {
    const key = await generateDpopKey();
    const other = await generateDpopKey();
    // (oidc-provider spends the code before it compares the keys: one code per attempt.)
    const stolen = codeForm(DPOP_REG, await codeFor(idp, DPOP_REG, { dpop_jkt: key.thumbprint }));
    const nonce = await currentNonce(idp, stolen, other);
    const wrong = await dpopToken(idp, stolen, { key: other, nonce });
    assert.equal(wrong.res.status, 400);
    assert.equal(wrong.body.error, 'invalid_grant');
    const form = codeForm(DPOP_REG, await codeFor(idp, DPOP_REG, { dpop_jkt: key.thumbprint }));
    const right = await dpopToken(idp, form, { key, nonce });
    assert.equal(right.res.status, 200, JSON.stringify(right.body));
    assert.equal((await verifyJwt(idp, right.body.access_token)).cnf.jkt, key.thumbprint);
  });

  test('rotateNonce ends the nonces handed out: the next request is told to use a new one', async () => {
    const key = await generateDpopKey();
    const form = codeForm(DPOP_REG, await codeFor(idp, DPOP_REG));
    const old = await currentNonce(idp, form, key);
    idp.dpop.rotateNonce();
    const { res, body } = await dpopToken(idp, form, { key, nonce: old });
    assert.equal(res.status, 400);
    assert.equal(body.error, 'use_dpop_nonce');
    const fresh = res.headers.get('dpop-nonce');
    assert.ok(fresh);
    assert.notEqual(fresh, old);
    const retry = await dpopToken(idp, form, { key, nonce: fresh });
    assert.equal(retry.res.status, 200, JSON.stringify(retry.body));
  });

  test('nonce modes: optional takes proofs without one, never refuses proofs with one', async () => {
    try {
      idp.dpop.setNonce('optional');
      const key = await generateDpopKey();
      const plain = await dpopToken(idp, codeForm(DPOP_REG, await codeFor(idp, DPOP_REG)), { key });
      assert.equal(plain.res.status, 200, JSON.stringify(plain.body));
      assert.equal(plain.body.token_type, 'DPoP');
      assert.ok(plain.res.headers.get('dpop-nonce'), 'a nonce is still handed out');

      idp.dpop.setNonce('never');
      const form = codeForm(DPOP_REG, await codeFor(idp, DPOP_REG));
      const withNonce = await dpopToken(idp, form, { key, nonce: 'anything' });
      assert.equal(withNonce.res.status, 400);
      assert.equal(withNonce.body.error, 'invalid_dpop_proof');
      const without = await dpopToken(idp, form, { key });
      assert.equal(without.res.status, 200, JSON.stringify(without.body));
      assert.equal(without.res.headers.get('dpop-nonce'), null);
      assert.throws(() => idp.dpop.setNonce('sometimes'), /nonce mode/);
    } finally {
      idp.dpop.setNonce('always');
    }
    const key = await generateDpopKey();
    await currentNonce(idp, codeForm(DPOP_REG, await codeFor(idp, DPOP_REG)), key);
  });

  test('refresh-token-only registration: Bearer access tokens, bound refresh token', async () => {
    const key = await generateDpopKey();
    const form = codeForm(RT_ONLY_REG, await codeFor(idp, RT_ONLY_REG));
    const bare = await dpopToken(idp, form, { key: null });
    assert.equal(bare.res.status, 400, 'a proof is still required');
    const nonce = await currentNonce(idp, form, key);
    const { res, body } = await dpopToken(idp, form, { key, nonce });
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.token_type, 'Bearer');
    const at = await verifyJwt(idp, body.access_token);
    assert.equal(at.cnf, undefined);
    assert.equal(at.aud, RT_ONLY_REG.apiAppId);

    const stolen = await dpopToken(idp, refreshForm(RT_ONLY_REG, body.refresh_token), { key: null });
    assert.equal(stolen.res.status, 400);
    assert.equal(stolen.body.error, 'invalid_grant');
    const renewed = await dpopToken(idp, refreshForm(RT_ONLY_REG, body.refresh_token), { key, nonce });
    assert.equal(renewed.res.status, 200, JSON.stringify(renewed.body));
    assert.equal(renewed.body.token_type, 'Bearer');
    assert.equal((await verifyJwt(idp, renewed.body.access_token)).cnf, undefined);
  });

  test('Graph tokens stay Bearer for a DPoP client; StudyBuilder may use DPoP or not', async () => {
    const key = await generateDpopKey();
    const form = codeForm(DPOP_REG, await codeFor(idp, DPOP_REG));
    const nonce = await currentNonce(idp, form, key);
    const signedIn = await dpopToken(idp, form, { key, nonce });
    assert.equal(signedIn.res.status, 200, JSON.stringify(signedIn.body));
    const graph = await dpopToken(idp, refreshForm(DPOP_REG, signedIn.body.refresh_token, 'User.Read'), { key, nonce });
    assert.equal(graph.res.status, 200, JSON.stringify(graph.body));
    assert.equal(graph.body.token_type, 'Bearer');
    assert.equal(decodeJwt(graph.body.access_token).payload.cnf, undefined);
    const me = await fetch(`${idp.graphUrl}/me`, {
      headers: { authorization: `Bearer ${graph.body.access_token}` },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    assert.equal(me.status, 200);

    // A registration without `dpop`: Bearer without a proof, DPoP with one.
    const sbBearer = await dpopToken(idp, codeForm(SB, await codeFor(idp, SB)), { key: null });
    assert.equal(sbBearer.res.status, 200, JSON.stringify(sbBearer.body));
    assert.equal(sbBearer.body.token_type, 'Bearer');
    const sbForm = codeForm(SB, await codeFor(idp, SB));
    const sbDpop = await dpopToken(idp, sbForm, { key, nonce: await currentNonce(idp, sbForm, key) });
    assert.equal(sbDpop.res.status, 200, JSON.stringify(sbDpop.body));
    assert.equal(sbDpop.body.token_type, 'DPoP');
    assert.equal((await verifyJwt(idp, sbDpop.body.access_token)).cnf.jkt, key.thumbprint);
  });
});
