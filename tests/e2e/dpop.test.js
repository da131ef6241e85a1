// End to end: DPoP (RFC 9449). Against the dev IdP speaking DPoP (server nonces on) and the dev
// API verifying proofs (its own nonces on), a person signs in and the session's tokens are bound
// to a non-extractable key the browser keeps in IndexedDB: every token request and API call
// carries a proof, a refresh token copied out of sessionStorage is worth nothing without the key,
// a replayed proof is refused, and the key goes with the session. A provider that binds the
// refresh token alone leaves API calls Bearer; a provider without DPoP leaves everything Bearer,
// and OAUTH_DPOP=required then says why it cannot sign in.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';

import { generateDpopKey, jwkThumbprint, makeProof } from '../../dev/idp/dpop.js';
import { registrations } from '../../dev/idp/registrations.js';
import { finish } from './browser.js';
import { useStack } from './fixture.js';

const bound = registrations.find((r) => r.name === 'StudyBuilder DPoP');
const refreshOnly = registrations.find((r) => r.name === 'StudyBuilder DPoP refresh only');
const reader = (reg) => reg.users.find((u) => u.username.startsWith('reader'));

/** The session's key reference as stored: `<id>.<x>.<y>`, the public key's coordinates. */
function keyOf(reference) {
  const [id, x, y] = reference.split('.');
  return { id, jwk: { kty: 'EC', crv: 'P-256', x, y } };
}
const payload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'));
const header = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url'));

async function eventually(probe, { timeout = 10_000, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Records the page's token requests (their DPoP proof and status) and API calls (headers). */
function recordTraffic(page, stack) {
  const seen = { authorize: [], token: [], api: [] };
  page.on('request', async (request) => {
    const url = request.url();
    if (url.includes('/authorize')) seen.authorize.push(url);
  });
  page.on('response', async (response) => {
    const request = response.request();
    const url = request.url();
    const headers = await request.allHeaders();
    if (request.method() === 'POST' && new URL(url).pathname.endsWith('/token')) {
      seen.token.push({ proof: headers.dpop, status: response.status() });
    } else if (url.startsWith(stack.apiUrl) && request.method() !== 'OPTIONS') {
      seen.api.push({ url, authorization: headers.authorization, proof: headers.dpop, status: response.status() });
    }
  });
  return seen;
}

/** The key the page keeps under `id`: what a script can learn of it. */
function inspectKey(page, id) {
  return page.evaluate(async (keyId) => {
    const db = await new Promise((ok, fail) => {
      const open = indexedDB.open('gatehouse.dpop');
      open.onsuccess = () => ok(open.result);
      open.onerror = () => fail(open.error);
    });
    const key = await new Promise((ok, fail) => {
      const get = db.transaction('keys').objectStore('keys').get(keyId);
      get.onsuccess = () => ok(get.result);
      get.onerror = () => fail(get.error);
    });
    const count = await new Promise((ok) => {
      const all = db.transaction('keys').objectStore('keys').count();
      all.onsuccess = () => ok(all.result);
    });
    db.close();
    if (!key) return { found: false, count };
    let exported = 'refused';
    try {
      await crypto.subtle.exportKey('jwk', key);
      exported = 'exported';
    } catch { /* non-extractable */ }
    return { found: true, count, type: key.type, extractable: key.extractable, algorithm: key.algorithm.name, exported };
  }, id);
}

describe('DPoP: tokens bound to the browser\'s key', () => {
  const ctx = useStack({ dpop: true, registration: bound, apiEnv: { API_DPOP_NONCE: 'on' } });

  test('sign-in binds the tokens: dpop_jkt, proofs with the provider\'s nonce, DPoP tokens; API calls carry proofs', async () => {
    const { page, app } = await ctx.newApp();
    const seen = recordTraffic(page, ctx.stack);
    await app.signIn(reader(bound));

    const stored = await app.storedSession();
    assert.ok(stored.dpop, 'the session names its key');
    assert.equal(stored.dpop_bound, true);
    const jkt = jwkThumbprint(keyOf(stored.dpop).jwk);
    assert.equal(new URL(seen.authorize[0]).searchParams.get('dpop_jkt'), jkt);
    assert.equal(payload(stored.access_token).cnf.jkt, jkt, 'the access token is bound to the key');

    // The first token request met the provider's nonce demand, the second carried it.
    assert.deepEqual(seen.token.map((t) => t.status), [400, 200]);
    const [first, second] = seen.token.map((t) => t.proof);
    assert.equal(header(first).typ, 'dpop+jwt');
    assert.equal(header(first).alg, 'ES256');
    assert.equal(jwkThumbprint(header(first).jwk), jkt);
    const token = (await (await fetch(ctx.stack.idp.discoveryUrl)).json()).token_endpoint;
    assert.equal(payload(second).htm, 'POST');
    assert.equal(payload(second).htu, token);
    assert.ok(payload(second).nonce, 'the retry carries the nonce');
    assert.notEqual(payload(first).jti, payload(second).jti);

    await app.testId('view-studies').click();
    await app.testId('api-status').filter({ hasText: '200' }).waitFor();
    const calls = seen.api.filter((c) => c.url.endsWith('/studies'));
    assert.deepEqual(calls.map((c) => c.status), [401, 200], 'the API\'s nonce demand is met once');
    for (const call of calls) {
      assert.equal(call.authorization, `DPoP ${stored.access_token}`);
      assert.equal(payload(call.proof).ath, createHash('sha256').update(stored.access_token).digest('base64url'));
      assert.equal(payload(call.proof).htm, 'GET');
    }
    assert.ok(payload(calls[1].proof).nonce, 'the retry carries the API\'s nonce');

    await app.openProfile();
    assert.equal(await app.testId('token-binding').innerText(), 'bound to this browser\'s key (DPoP)');
    assert.deepEqual(page.problems.filter((p) => !/status of 40[01]/.test(p)), []);
    await finish(page);
  });

  test('the key cannot be read out, survives a reload, refreshes, and goes at sign-out', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(reader(bound));
    const dpop = keyOf((await app.storedSession()).dpop);
    const key = await inspectKey(page, dpop.id);
    assert.deepEqual(
      { found: key.found, type: key.type, extractable: key.extractable, algorithm: key.algorithm, exported: key.exported },
      { found: true, type: 'private', extractable: false, algorithm: 'ECDSA', exported: 'refused' },
    );

    await page.reload();
    await app.testId('user-menu').waitFor();
    const before = await app.storedSession();
    await app.openProfile();
    await app.testId('refresh-now').click();
    const after = await eventually(async () => {
      const now = await app.storedSession();
      return now?.refresh_token !== before.refresh_token && now;
    }, { what: 'the refreshed session' });
    assert.equal(keyOf(after.dpop).id, dpop.id, 'the same key after a reload');
    assert.equal(payload(after.access_token).cnf.jkt, jwkThumbprint(dpop.jwk));

    await app.testId('sign-out').click();
    await app.testId('sign-in').waitFor();
    const gone = await inspectKey(page, dpop.id);
    assert.equal(gone.found, false, 'the key went with the session');
    await finish(page);
  });

  test('a refresh token copied out of sessionStorage is refused without the key, and stays usable by the app', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(reader(bound));
    const stolen = (await app.storedSession()).refresh_token;
    const tokenEndpoint = (await (await fetch(ctx.stack.idp.discoveryUrl)).json()).token_endpoint;
    const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: stolen, client_id: bound.clientId });
    const send = (headers = {}) => fetch(tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
      signal: AbortSignal.timeout(5_000),
    });

    const bare = await send();
    assert.equal(bare.status, 400);
    assert.match((await bare.json()).error, /invalid_grant|invalid_dpop_proof/);

    const thief = await generateDpopKey();
    const first = await send({ DPoP: await makeProof({ key: thief, htm: 'POST', htu: tokenEndpoint }) });
    const nonce = first.headers.get('dpop-nonce');
    const withNonce = nonce
      ? await send({ DPoP: await makeProof({ key: thief, htm: 'POST', htu: tokenEndpoint, nonce }) })
      : first;
    assert.equal(withNonce.status, 400);
    assert.equal((await withNonce.json()).error, 'invalid_grant', 'another key is refused');

    // The person's session is untouched: its own refresh still works.
    await app.openProfile();
    await app.testId('refresh-now').click();
    await eventually(async () => (await app.storedSession())?.refresh_token !== stolen, { what: 'the refresh' });
    await finish(page);
  });

  test('a proof replayed to the API is refused', async () => {
    const { page, app } = await ctx.newApp();
    const seen = recordTraffic(page, ctx.stack);
    await app.signIn(reader(bound));
    await app.testId('view-studies').click();
    await app.testId('api-status').filter({ hasText: '200' }).waitFor();
    const accepted = seen.api.find((c) => c.url.endsWith('/studies') && c.status === 200);
    const replay = await fetch(accepted.url, {
      headers: { authorization: accepted.authorization, dpop: accepted.proof },
      signal: AbortSignal.timeout(5_000),
    });
    assert.equal(replay.status, 401);
    assert.match(replay.headers.get('www-authenticate'), /^DPoP .*error="invalid_dpop_proof"/);
    // The token alone, as a Bearer token, is refused too.
    const token = accepted.authorization.replace(/^DPoP /, '');
    const bearer = await fetch(accepted.url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
    assert.equal(bearer.status, 401);
    await finish(page);
  });

  test('a nonce the provider demands mid-session is met, once', async () => {
    const { page, app } = await ctx.newApp();
    const seen = recordTraffic(page, ctx.stack);
    await app.signIn(reader(bound));
    const before = await app.storedSession();
    ctx.stack.idp.dpop.rotateNonce();
    const sent = seen.token.length;
    await app.openProfile();
    await app.testId('refresh-now').click();
    await eventually(async () => (await app.storedSession())?.refresh_token !== before.refresh_token, { what: 'the refresh' });
    assert.deepEqual(seen.token.slice(sent).map((t) => t.status), [400, 200]);
    assert.equal(await app.testId('auth-error').count(), 0);
    await finish(page);
  });
});

describe('DPoP keys that no session keeps', () => {
  const VIEWS = [{ id: 'mfa', title: 'MFA', method: 'GET', path: '/secure/mfa', roles: [] }];
  const ctx = useStack({ dpop: true, registration: bound, config: { VIEWS } });

  test('a sign-in cancelled at the provider, or whose code is refused, leaves no key behind', async () => {
    const { page, app } = await ctx.newApp();
    await app.open('/');
    await app.testId('sign-in').click();
    await app.idp.cancel();
    await app.testId('auth-error').filter({ hasText: 'access_denied' }).waitFor();
    assert.equal((await inspectKey(page, '')).count, 0, 'the cancelled sign-in\'s key is gone');

    await page.route('**/token', (route) => route.fulfill({
      status: 400, contentType: 'application/json', body: '{"error":"invalid_grant"}',
    }));
    await app.testId('sign-in').click();
    await app.idp.signIn(reader(bound).username, reader(bound).password);
    await app.testId('auth-error').filter({ hasText: 'invalid_grant' }).waitFor();
    assert.equal((await inspectKey(page, '')).count, 0, 'the refused sign-in\'s key is gone');

    // The provider remembers the person now: signing in again needs no form.
    await page.unroute('**/token');
    await app.testId('sign-in').click();
    await app.testId('user-menu').waitFor();
    assert.equal((await inspectKey(page, keyOf((await app.storedSession()).dpop).id)).count, 1);
    await finish(page);
  });

  test('a stronger sign-in keeps the session\'s key: the new tokens are bound to it', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(reader(bound));
    const before = await app.storedSession();
    await app.open('/views/mfa');
    await app.testId('api-step-up-needed').waitFor();
    await app.testId('api-step-up').click();
    await app.idp.signIn(reader(bound).username, reader(bound).password);
    await app.testId('api-status').filter({ hasText: '200' }).waitFor();
    const after = await app.storedSession();
    assert.equal(payload(after.access_token).acr, 'urn:gatehouse:mfa');
    assert.notEqual(after.access_token, before.access_token);
    assert.equal(after.dpop, before.dpop, 'the same key');
    assert.equal(payload(after.access_token).cnf.jkt, jwkThumbprint(keyOf(before.dpop).jwk));
    assert.equal((await inspectKey(page, keyOf(after.dpop).id)).count, 1, 'one key, no orphan');
    await finish(page);
  });
});

describe('DPoP with the refresh token alone bound', () => {
  const ctx = useStack({ dpop: true, registration: refreshOnly });

  test('API calls stay Bearer while the refresh token is bound; the profile says so', async () => {
    const { page, app } = await ctx.newApp();
    const seen = recordTraffic(page, ctx.stack);
    await app.signIn(reader(refreshOnly));
    const stored = await app.storedSession();
    assert.ok(stored.dpop);
    assert.equal(stored.dpop_bound ?? false, false);
    await app.testId('view-studies').click();
    await app.testId('api-status').filter({ hasText: '200' }).waitFor();
    const call = seen.api.find((c) => c.url.endsWith('/studies'));
    assert.equal(call.authorization, `Bearer ${stored.access_token}`);
    assert.equal(call.proof, undefined);
    assert.ok(seen.token.every((t) => t.proof), 'token requests still prove the key');
    await app.openProfile();
    assert.match(await app.testId('token-binding').innerText(), /refresh token bound to this browser's key \(DPoP\); access tokens Bearer/);
    await finish(page);
  });
});

describe('a provider without DPoP', () => {
  const ctx = useStack();

  test('auto stays Bearer; OAUTH_DPOP=required says why it cannot sign in', async () => {
    const { page, app } = await ctx.newApp();
    const users = registrations[0].users;
    await app.signIn(users.find((u) => u.username.startsWith('reader')));
    const stored = await app.storedSession();
    assert.equal(stored.dpop, undefined);
    await app.openProfile();
    assert.equal(await app.testId('token-binding').innerText(), 'Bearer tokens (not bound to this browser)');
    await finish(page);

    const other = await ctx.newApp();
    const served = await (await fetch(`${ctx.stack.appUrl}/config.json`)).json();
    await other.page.route('**/config.json', (route) => route.fulfill({
      body: JSON.stringify({ ...served, OAUTH_DPOP: 'required' }),
      contentType: 'application/json',
    }));
    await other.app.open('/');
    await other.app.testId('sign-in').click();
    const error = other.app.testId('auth-error');
    await error.waitFor();
    assert.match(await error.innerText(), /DPoP is required \(OAUTH_DPOP=required\), but the provider's discovery document does not list ES256 in dpop_signing_alg_values_supported/);
    await finish(other.page);
  });
});
