// Proves the Glewlwyd interop provider (tests/interop/glewlwyd.js) without the app: discovery,
// an authorization code flow with PKCE S256, response_mode=fragment, nonce and state driven
// through Glewlwyd's own login page in headless Chromium, the token endpoint answering the app's
// origin (CORS), the tokens' claims and signatures, refresh token rotation, a wrong code_verifier,
// resource indicators for the access token's audience, and RP-initiated logout. Where Glewlwyd
// departs from the specifications, the test asserts what it does, with a comment.
//
// The app's origin is a tiny node:http server on 127.0.0.1 and a free port that answers every path
// with an empty page: all a redirect URI needs here (a real server, not page.route, so Chromium
// sees the page in the loopback address space and lets it call Glewlwyd).

import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { launch, newPage } from '../e2e/browser.js';
import { startGlewlwyd } from './glewlwyd.js';

const app = createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end('<!doctype html><title>app</title><p>app</p>');
});
await new Promise((ok, fail) => app.once('error', fail).listen(0, '127.0.0.1', ok));
const APP = `http://127.0.0.1:${app.address().port}`;
const REDIRECT_URI = `${APP}/oauth-callback`;
const POST_LOGOUT_URI = `${APP}/signed-out`;

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const claims = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
const header = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString('utf8'));

function pkce() {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}

describe('Glewlwyd as the interop OpenID provider', { timeout: 60_000 }, () => {
  let idp;
  let meta;
  let browser;
  let page;
  let jwks;
  const scope = () => `openid profile email offline_access ${idp.apiScope}`;

  /** POSTs a form to the token endpoint the way the app does: from its origin, no client secret. */
  async function token(form) {
    const res = await fetch(meta.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: APP },
      body: new URLSearchParams({ client_id: idp.clientId, ...form }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let body;
    try { body = JSON.parse(text); } catch { body = text; }
    return { status: res.status, cors: res.headers.get('access-control-allow-origin'), body };
  }

  /** Sends the page to the authorization endpoint; resolves to the request's { verifier, state, nonce }. */
  async function authorize(p, extra = {}) {
    const { verifier, challenge } = pkce();
    const state = b64url(randomBytes(12));
    const nonce = b64url(randomBytes(12));
    const query = new URLSearchParams({
      response_type: 'code',
      response_mode: 'fragment',
      client_id: idp.clientId,
      redirect_uri: REDIRECT_URI,
      scope: scope(),
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    });
    await p.goto(`${meta.authorization_endpoint}?${query}`);
    return { verifier, state, nonce };
  }

  /** The authorization response's parameters, read from the redirect URI's fragment. */
  async function callback(p) {
    await p.waitForURL((u) => u.href.startsWith(REDIRECT_URI), { timeout: 15_000 });
    const url = new URL(p.url());
    assert.equal(url.search, '', `nothing in the query with response_mode=fragment: ${url.href}`);
    return Object.fromEntries(new URLSearchParams(url.hash.slice(1)));
  }

  function assertSigned(jwt) {
    const { alg, kid } = header(jwt);
    assert.equal(alg, 'RS256');
    const jwk = jwks.keys.find((k) => k.kid === kid);
    assert.ok(jwk, `kid ${kid} is in the JWKS`);
    const [h, p, s] = jwt.split('.');
    const key = createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
    assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url')), 'RS256 signature verifies');
  }

  before(async () => {
    idp = await startGlewlwyd({ appOrigins: [APP], redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [POST_LOGOUT_URI] });
    browser = await launch();
    page = await newPage(browser);
  });

  after(async () => {
    await browser?.close();
    await idp?.stop();
    await new Promise((ok) => app.close(ok));
  });

  test('discovery: issuer, S256 PKCE, fragment responses, end_session, CORS on discovery and JWKS', async () => {
    assert.match(idp.version, /^2\.7\.5/);
    assert.equal(idp.metadataUrl, `${idp.issuer}/.well-known/openid-configuration`);
    const res = await fetch(idp.metadataUrl, { headers: { Origin: APP } });
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    meta = await res.json();
    assert.equal(meta.issuer, idp.issuer);
    assert.match(idp.issuer, /^http:\/\/127\.0\.0\.1:\d+\/api\/oidc$/);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.ok(meta.response_modes_supported.includes('fragment'));
    assert.ok(meta.response_types_supported.includes('code'));
    assert.equal(meta.end_session_endpoint, `${idp.issuer}/end_session`);
    for (const s of ['openid', 'profile', 'email', 'offline_access', idp.apiScope]) assert.ok(meta.scopes_supported.includes(s), s);
    // Glewlwyd's discovery does not list refresh_token as a grant type, nor "none" as a token
    // endpoint auth method, although both work (below): recorded, not required.
    assert.deepEqual(meta.grant_types_supported, ['authorization_code', 'implicit']);
    assert.ok(!meta.token_endpoint_auth_methods_supported.includes('none'));

    const keys = await fetch(meta.jwks_uri, { headers: { Origin: APP } });
    assert.equal(keys.headers.get('access-control-allow-origin'), APP);
    jwks = await keys.json();
    assert.equal(jwks.keys[0].alg, 'RS256');
  });

  test('a wrong code_verifier is refused', async () => {
    const p = await newPage(browser); // a fresh browser context: no Glewlwyd session
    try {
      const request = await authorize(p);
      await idp.signIn(p, idp.users.reader);
      const response = await callback(p);
      assert.equal(response.state, request.state);
      const wrong = await token({ grant_type: 'authorization_code', code: response.code, redirect_uri: REDIRECT_URI, code_verifier: pkce().verifier });
      // Glewlwyd answers 403 {"error":"invalid_code"} where RFC 6749 §5.2 says 400 invalid_grant.
      assert.equal(wrong.status, 403, JSON.stringify(wrong.body));
      assert.equal(wrong.body.error, 'invalid_code');
      const none = await token({ grant_type: 'authorization_code', code: response.code, redirect_uri: REDIRECT_URI });
      assert.equal(none.status, 403, 'no code_verifier at all is refused too');
    } finally {
      await p.context().close();
    }
  });

  test('PKCE is required for the public client', async () => {
    const query = new URLSearchParams({
      response_type: 'code', client_id: idp.clientId, redirect_uri: REDIRECT_URI, scope: scope(), state: 's', nonce: 'n',
    });
    const res = await fetch(`${meta.authorization_endpoint}?${query}`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location'));
    assert.ok(location.href.startsWith(REDIRECT_URI), location.href);
    assert.equal(location.searchParams.get('error'), 'invalid_request', location.href);
  });

  let tokens;
  test('code flow: sign-in on Glewlwyd\'s page, code in the fragment, redeemed from the app\'s origin', async () => {
    const request = await authorize(page);
    await idp.signIn(page, idp.users.author);
    const response = await callback(page);
    assert.equal(response.state, request.state);
    assert.ok(response.code);
    assert.equal(response.error, undefined);
    assert.equal(response.iss, idp.issuer, 'RFC 9207 iss in the authorization response');

    const redeemed = await token({ grant_type: 'authorization_code', code: response.code, redirect_uri: REDIRECT_URI, code_verifier: request.verifier });
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    assert.equal(redeemed.cors, APP, 'Access-Control-Allow-Origin on the token endpoint');
    tokens = redeemed.body;
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.ok(tokens.refresh_token, 'a refresh token comes with the code redemption');
    assert.equal(tokens.scope, scope());

    const at = claims(tokens.access_token);
    assertSigned(tokens.access_token);
    assert.equal(header(tokens.access_token).typ, 'at+jwt');
    assert.equal(at.iss, idp.issuer);
    assert.equal(at.client_id, idp.clientId);
    assert.equal(at.sub.length > 0, true);
    // Without a resource parameter, aud is the granted scope list as one string.
    assert.equal(at.aud, scope());
    assert.equal(at.scope, scope());
    // additional-parameters joins a multi-valued user property with commas: a string, not an array.
    assert.equal(at.roles, idp.users.author.roles.join(','));

    const id = claims(tokens.id_token);
    assertSigned(tokens.id_token);
    assert.equal(id.iss, idp.issuer);
    assert.equal(id.aud, idp.clientId);
    assert.equal(id.azp, idp.clientId);
    assert.equal(id.nonce, request.nonce);
    assert.equal(id.sub, at.sub);
    assert.deepEqual(id.roles, idp.users.author.roles, 'roles is a JSON array in the ID token');
    assert.equal(id.name, idp.users.author.name);
    assert.equal(id.email, idp.users.author.email);
    assert.equal(id.preferred_username, 'author');
    assert.ok(id.sid, 'session management puts a sid in the ID token');

    const info = await fetch(meta.userinfo_endpoint, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(info.status, 200);
    const user = await info.json();
    assert.deepEqual(user.roles, idp.users.author.roles, 'roles is a JSON array in userinfo');
    assert.equal(user.email, idp.users.author.email);
  });

  test('refresh: two refreshes, each rotating the refresh token; no ID token in refresh responses', async () => {
    // The first refresh from the app's page itself: the browser enforces CORS on the answer.
    await page.goto(`${APP}/`);
    const first = await page.evaluate(async ({ url, clientId, refreshToken }) => {
      const res = await fetch(url, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken }) });
      return { status: res.status, body: await res.json() };
    }, { url: meta.token_endpoint, clientId: idp.clientId, refreshToken: tokens.refresh_token });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.ok(first.body.refresh_token && first.body.refresh_token !== tokens.refresh_token, 'rotated');
    assert.equal(first.body.id_token, undefined);
    assert.deepEqual(claims(first.body.access_token).roles, claims(tokens.access_token).roles);
    assertSigned(first.body.access_token);

    const second = await token({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.cors, APP);
    assert.ok(second.body.refresh_token && second.body.refresh_token !== first.body.refresh_token, 'rotated again');
    assert.equal(second.body.id_token, undefined);
    assert.equal(claims(second.body.access_token).sub, claims(tokens.access_token).sub);

    // A used refresh token is refused, with a bare 400 (no JSON error body, where RFC 6749 §5.2
    // wants {"error":"invalid_grant"}), and the replay also disables the chain's newest token.
    const replay = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    assert.equal(replay.status, 400);
    assert.equal(replay.body, '');
    const newest = await token({ grant_type: 'refresh_token', refresh_token: second.body.refresh_token });
    assert.equal(newest.status, 400, 'a replay revokes the whole chain');
  });

  test('resource indicator: resource=<apiAudience> makes it the access token\'s aud', async () => {
    // Glewlwyd remembers the session and the consent, but still shows its page with "Continue".
    const request = await authorize(page, { resource: idp.apiAudience });
    await idp.signIn(page, idp.users.author);
    const response = await callback(page);
    assert.equal(response.state, request.state);
    const redeemed = await token({ grant_type: 'authorization_code', code: response.code, redirect_uri: REDIRECT_URI, code_verifier: request.verifier });
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    assert.equal(claims(redeemed.body.access_token).aud, idp.apiAudience);
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: redeemed.body.refresh_token });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.equal(claims(refreshed.body.access_token).aud, idp.apiAudience, 'kept on refresh');
    tokens = { ...redeemed.body, rotated: refreshed.body };
  });

  test('end session: id_token_hint + post_logout_redirect_uri + state, confirmed on Glewlwyd\'s page', async () => {
    // One more code redemption in this session, whose refresh token is not used before the
    // sign-out. Without offline_access: Glewlwyd issues a refresh token anyway.
    const request = await authorize(page, { scope: `openid ${idp.apiScope}` });
    await idp.signIn(page, idp.users.author);
    const response = await callback(page);
    const fresh = await token({ grant_type: 'authorization_code', code: response.code, redirect_uri: REDIRECT_URI, code_verifier: request.verifier });
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
    assert.equal(fresh.body.scope, `openid ${idp.apiScope}`);
    assert.ok(fresh.body.refresh_token, 'a refresh token without offline_access');

    const state = b64url(randomBytes(12));
    // The hint is the ID token the app kept from its sign-in, refreshed since (refresh responses
    // carry no ID token); Glewlwyd only checks it is one it issued and has not disabled (not exp).
    const query = new URLSearchParams({ id_token_hint: tokens.id_token, post_logout_redirect_uri: POST_LOGOUT_URI, state });
    await page.goto(`${meta.end_session_endpoint}?${query}`);
    await idp.signOut(page);
    await page.waitForURL((u) => u.href.startsWith(POST_LOGOUT_URI), { timeout: 15_000 });
    const back = new URL(page.url());
    assert.equal(back.origin + back.pathname, POST_LOGOUT_URI);
    assert.equal(back.searchParams.get('state'), state, 'state comes back in the query');

    // What the sign-out revoked: Glewlwyd finds a session's tokens through its authorization
    // codes' refresh tokens that are still enabled. So the unused refresh token and its access
    // token are revoked, but a rotated refresh token (stored without its code) and its access
    // tokens outlive the sign-out.
    const revokedRefresh = await token({ grant_type: 'refresh_token', refresh_token: fresh.body.refresh_token });
    assert.equal(revokedRefresh.status, 400);
    const revokedAccess = await fetch(meta.userinfo_endpoint, { headers: { Authorization: `Bearer ${fresh.body.access_token}` } });
    assert.equal(revokedAccess.status, 401, 'userinfo refuses the revoked access token');
    const kept = await fetch(meta.userinfo_endpoint, { headers: { Authorization: `Bearer ${tokens.rotated.access_token}` } });
    assert.equal(kept.status, 200);
    const rotated = await token({ grant_type: 'refresh_token', refresh_token: tokens.rotated.refresh_token });
    assert.equal(rotated.status, 200, 'the rotated refresh token still works after the sign-out');

    // The session is over: a new authorization request shows the login form again.
    await authorize(page);
    await page.locator('#username').waitFor({ state: 'visible', timeout: 15_000 });
  });
});
