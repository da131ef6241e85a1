// Tests of step-up authentication (RFC 9470: acr_values, max_age, acr and auth_time in the tokens)
// and of claims challenges (authentication contexts in acrs, client capabilities in xms_cc).
// Run: node --test dev/idp/
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startIdp } from './server.js';
import {
  APP_ORIGIN, Browser, REDIRECT_URI, SB, SCOPE, TIMEOUT_MS, authorizeUrl, fragmentParams, pkce,
  redeem, refresh, signIn, signInTo, token, verifyJwt,
} from './testkit.js';

const PWD = 'urn:gatehouse:pwd';
const MFA = 'urn:gatehouse:mfa';
const sbUser = (name) => SB.users.find((u) => u.username === `${name}@studybuilder.test`);
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** Redeems a code; returns the token response body and the decoded ID and access tokens. */
async function tokensOf(idp, r) {
  const { res, body } = await redeem(idp, r);
  assert.equal(res.status, 200, JSON.stringify(body));
  return { body, id: await verifyJwt(idp, body.id_token), at: await verifyJwt(idp, body.access_token) };
}

describe('step-up: acr_values and max_age', () => {
  let idp;
  let origin;
  before(async () => {
    idp = await startIdp({ port: 0, quiet: true, appOrigins: [APP_ORIGIN] });
    origin = new URL(idp.issuer).origin;
  });
  after(async () => { await idp?.close(); });

  test('discovery lists the supported ACRs', async () => {
    const doc = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`, {
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })).json();
    assert.deepEqual(doc.acr_values_supported, [PWD, MFA]);
  });

  test('a normal sign-in is urn:gatehouse:pwd; acr_values=urn:gatehouse:mfa shows the login page again and gives mfa in the ID and access tokens', async () => {
    const browser = new Browser();
    const u = sbUser('author');
    const first = await tokensOf(idp, await signIn(idp, browser, { username: u.username, password: u.password }));
    assert.equal(first.id.acr, PWD);
    assert.equal(first.at.acr, PWD);
    assert.ok(Number.isInteger(first.id.auth_time));
    assert.equal(first.at.auth_time, first.id.auth_time);

    // Silently, the session cannot reach MFA: interaction_required with Entra's words.
    const { challenge } = pkce();
    const silent = await browser.follow(authorizeUrl(idp, {
      code_challenge: challenge, acr_values: MFA, prompt: 'none', state: 'up',
    }), origin);
    assert.ok(silent.left);
    const fp = fragmentParams(silent.url);
    assert.equal(fp.get('error'), 'interaction_required');
    assert.match(fp.get('error_description'), /^AADSTS50076: .*multi-factor authentication/);
    assert.equal(fp.get('state'), 'up');

    // Interactively, the login page is shown again (though the session exists), says why and
    // names who is signed in; signing in there reaches MFA.
    const page = await browser.follow(authorizeUrl(idp, { code_challenge: challenge, acr_values: MFA }), origin);
    assert.equal(page.res.status, 200);
    const html = await page.res.text();
    assert.match(html, /class="notice"[^>]*>This sign-in requires multi-factor authentication \(urn:gatehouse:mfa\)/);
    assert.match(html, new RegExp(`name="login" value="${u.username.replace('.', '\\.')}"`));
    const up = await tokensOf(idp, await signIn(idp, browser, {
      username: u.username, password: u.password, params: { acr_values: `urn:unknown ${MFA} ${PWD}` },
    }));
    assert.equal(up.id.acr, MFA);
    assert.equal(up.at.acr, MFA);
    assert.equal(up.at.auth_time, up.id.auth_time);
    assert.ok(up.at.auth_time >= first.at.auth_time);

    // Refreshes keep the sign-in's acr and auth_time.
    const r1 = await refresh(idp, SB, up.body.refresh_token);
    assert.equal(r1.res.status, 200, JSON.stringify(r1.body));
    const at1 = await verifyJwt(idp, r1.body.access_token);
    assert.equal(at1.acr, MFA);
    assert.equal(at1.auth_time, up.at.auth_time);
    assert.equal((await verifyJwt(idp, r1.body.id_token)).acr, MFA);
    // …and so do the first sign-in's refresh tokens, for theirs.
    const r0 = await refresh(idp, SB, first.body.refresh_token);
    assert.equal((await verifyJwt(idp, r0.body.access_token)).acr, PWD);

    // The session now is at MFA: asking for it again (or for nothing) needs no login.
    const again = await tokensOf(idp, await signIn(idp, browser, { params: { acr_values: MFA }, expectLogin: false }));
    assert.equal(again.at.acr, MFA);
    const plain = await tokensOf(idp, await signIn(idp, browser, { expectLogin: false }));
    assert.equal(plain.at.acr, MFA);
  });

  test('max_age=0 forces a new login, with a fresh auth_time in the ID and access tokens', async () => {
    const browser = new Browser();
    const u = sbUser('librarian');
    const first = await tokensOf(idp, await signIn(idp, browser, { username: u.username, password: u.password }));
    await sleep(1100);
    // Without max_age the session is reused: the same auth_time.
    const sso = await tokensOf(idp, await signIn(idp, browser, { expectLogin: false }));
    assert.equal(sso.at.auth_time, first.at.auth_time);
    // With max_age=0 the login page comes back (signIn checks it), and auth_time moves on.
    const fresh = await tokensOf(idp, await signIn(idp, browser, {
      username: u.username, password: u.password, params: { max_age: '0' },
    }));
    assert.ok(fresh.id.auth_time > first.id.auth_time, `${fresh.id.auth_time} > ${first.id.auth_time}`);
    assert.equal(fresh.at.auth_time, fresh.id.auth_time);
    assert.equal(fresh.at.acr, PWD);
    const r = await refresh(idp, SB, fresh.body.refresh_token);
    assert.equal((await verifyJwt(idp, r.body.access_token)).auth_time, fresh.at.auth_time);
    // A max_age the session is within needs no login.
    const within = await tokensOf(idp, await signIn(idp, browser, { params: { max_age: '3600' }, expectLogin: false }));
    assert.equal(within.at.auth_time, fresh.at.auth_time);
  });
});

// ------------------------------------------------------------------ claims challenges

const claimsOf = (accessToken) => JSON.stringify({ access_token: accessToken });
const C1 = claimsOf({ acrs: { essential: true, value: 'c1' } });
const C2 = claimsOf({ acrs: { essential: true, value: 'c2' } });
const CP1 = claimsOf({ xms_cc: { values: ['cp1'] } });
const SB_API_SCOPE = `api://${SB.apiAppId}/API.call`;

/** A refresh grant for the StudyBuilder client with a `claims` parameter. */
function refreshWithClaims(idp, refreshToken, claims, headers = {}) {
  return token(idp, {
    grant_type: 'refresh_token', client_id: SB.clientId, refresh_token: refreshToken, claims,
  }, headers);
}

/** Asserts Entra's AADSTS50076 answer of the token endpoint; returns the body. */
function assertInteractionRequired({ res, body }, appId) {
  assert.equal(res.status, 400, JSON.stringify(body));
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(body.error, 'interaction_required');
  assert.match(body.error_description, new RegExp(
    `^AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '${appId}'\\. Trace ID: [0-9a-f-]{36} Correlation ID: [0-9a-f-]{36} Timestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`,
  ));
  assert.deepEqual(body.error_codes, [50076]);
  assert.equal(body.suberror, 'basic_action');
  assert.equal(body.error_uri, 'https://login.microsoftonline.com/error?code=50076');
  assert.match(body.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  assert.match(body.trace_id, /^[0-9a-f-]{36}$/);
  assert.match(body.correlation_id, /^[0-9a-f-]{36}$/);
  return body;
}

describe('claims challenges: authentication contexts (acrs) and client capabilities (xms_cc)', () => {
  let idp;
  let origin;
  before(async () => {
    idp = await startIdp({ port: 0, quiet: true, appOrigins: [APP_ORIGIN] });
    origin = new URL(idp.issuer).origin;
  });
  after(async () => { await idp?.close(); });

  test('c1 is granted silently by a refresh grant and stays with the sign-in', async () => {
    const u = sbUser('reader');
    const { body } = await signInTo(idp, SB, u, SCOPE);
    assert.equal('acrs' in await verifyJwt(idp, body.access_token), false);

    const r1 = await refreshWithClaims(idp, body.refresh_token, C1, { origin: APP_ORIGIN });
    assert.equal(r1.res.status, 200, JSON.stringify(r1.body));
    assert.equal(r1.res.headers.get('access-control-allow-origin'), APP_ORIGIN);
    const at1 = await verifyJwt(idp, r1.body.access_token);
    assert.deepEqual(at1.acrs, ['c1']);
    assert.equal(at1.aud, SB.apiAppId);
    assert.equal(at1.acr, PWD);

    // Later refreshes (without claims, with "values", for Graph) keep it.
    const r2 = await refresh(idp, SB, r1.body.refresh_token);
    assert.deepEqual((await verifyJwt(idp, r2.body.access_token)).acrs, ['c1']);
    const r3 = await refreshWithClaims(idp, r2.body.refresh_token, claimsOf({ acrs: { essential: true, values: ['c1'] } }));
    assert.equal(r3.res.status, 200, JSON.stringify(r3.body));
    assert.deepEqual((await verifyJwt(idp, r3.body.access_token)).acrs, ['c1']);
    const graph = await refresh(idp, SB, r3.body.refresh_token, 'User.Read');
    assert.equal(graph.res.status, 200, JSON.stringify(graph.body));
    assert.deepEqual((await verifyJwt(idp, graph.body.access_token)).acrs, ['c1']);
  });

  test('c2 by a refresh grant: interaction_required (AADSTS50076), the refresh token stays usable', async () => {
    const u = sbUser('author');
    const { body } = await signInTo(idp, SB, u, SCOPE);
    const refused = await refreshWithClaims(idp, body.refresh_token, C2, { origin: APP_ORIGIN });
    assert.equal(refused.res.headers.get('access-control-allow-origin'), APP_ORIGIN);
    const b = assertInteractionRequired(refused, SB.apiAppId);
    // `claims` says what to send with the authorization request that fixes it.
    assert.deepEqual(JSON.parse(b.claims), { access_token: { acrs: { essential: true, values: ['c2'] } } });

    // For another API the description names that API.
    const graph = await token(idp, {
      grant_type: 'refresh_token', client_id: SB.clientId, refresh_token: body.refresh_token, claims: C2, scope: 'User.Read',
    });
    assertInteractionRequired(graph, '00000003-0000-0000-c000-000000000000');

    // Nothing was spent: the refresh token still works, without c2.
    const ok = await refresh(idp, SB, body.refresh_token);
    assert.equal(ok.res.status, 200, JSON.stringify(ok.body));
    assert.equal('acrs' in await verifyJwt(idp, ok.body.access_token), false);
  });

  test('c2 by an authorization request: the login page again, then acrs c2; refreshes keep c2 and add c1', async () => {
    const browser = new Browser();
    const u = sbUser('super');
    const first = await signIn(idp, browser, { username: u.username, password: u.password });
    const { body: signedIn } = await redeem(idp, first);
    const withC1 = await refreshWithClaims(idp, signedIn.refresh_token, C1);
    const refused = assertInteractionRequired(
      await refreshWithClaims(idp, withC1.body.refresh_token, C2),
      SB.apiAppId,
    );
    // The challenge's claims name what the sign-in had (c1) and what it lacks (c2).
    assert.deepEqual(JSON.parse(refused.claims).access_token.acrs.values, ['c1', 'c2']);

    // Silently it cannot be had.
    const { challenge } = pkce();
    const silent = await browser.follow(authorizeUrl(idp, {
      code_challenge: challenge, claims: refused.claims, prompt: 'none',
    }), origin);
    assert.equal(fragmentParams(silent.url).get('error'), 'interaction_required');
    assert.match(fragmentParams(silent.url).get('error_description'), /^AADSTS50076: /);

    // Interactively the login page is shown although the session exists, and says why.
    const page = await browser.follow(authorizeUrl(idp, { code_challenge: challenge, claims: C2 }), origin);
    assert.equal(page.res.status, 200);
    assert.match(await page.res.text(), /class="notice"[^>]*>This sign-in requires the authentication context c2 \(Multi-factor authentication\)/);
    const up = await redeem(idp, await signIn(idp, browser, {
      username: u.username, password: u.password, params: { claims: C2 },
    }));
    assert.equal(up.res.status, 200, JSON.stringify(up.body));
    const at = await verifyJwt(idp, up.body.access_token);
    assert.deepEqual(at.acrs, ['c2']);

    // Its refreshes keep c2, may ask for c2 again (it has it now) and add c1 silently.
    const r1 = await refreshWithClaims(idp, up.body.refresh_token, C2);
    assert.equal(r1.res.status, 200, JSON.stringify(r1.body));
    assert.deepEqual((await verifyJwt(idp, r1.body.access_token)).acrs, ['c2']);
    const r2 = await refreshWithClaims(idp, r1.body.refresh_token, claimsOf({ acrs: { essential: true, values: ['c1', 'c2'] } }));
    assert.equal(r2.res.status, 200, JSON.stringify(r2.body));
    assert.deepEqual((await verifyJwt(idp, r2.body.access_token)).acrs, ['c2', 'c1']);
    const r3 = await refresh(idp, SB, r2.body.refresh_token);
    assert.deepEqual((await verifyJwt(idp, r3.body.access_token)).acrs, ['c2', 'c1']);

    // The challenge's claims, sent as they are, give both.
    const both = await redeem(idp, await signIn(idp, browser, {
      username: u.username, password: u.password, params: { claims: refused.claims },
    }));
    assert.deepEqual((await verifyJwt(idp, both.body.access_token)).acrs, ['c1', 'c2']);
  });

  test('xms_cc (with acrs, and with an id_token member, in one claims object) is carried through refreshes', async () => {
    const browser = new Browser();
    const u = sbUser('norole');
    const claims = JSON.stringify({
      id_token: { auth_time: { essential: true } },
      access_token: { xms_cc: { values: ['cp1'] }, acrs: { essential: true, value: 'c1' } },
    });
    const r = await signIn(idp, browser, { username: u.username, password: u.password, params: { claims } });
    const { res, body } = await redeem(idp, r);
    assert.equal(res.status, 200, JSON.stringify(body));
    const at = await verifyJwt(idp, body.access_token);
    assert.deepEqual(at.xms_cc, ['cp1']);
    assert.deepEqual(at.acrs, ['c1']);
    let rt = body.refresh_token;
    for (const scope of [undefined, SB_API_SCOPE, 'User.Read']) {
      const next = await refresh(idp, SB, rt, scope);
      assert.equal(next.res.status, 200, JSON.stringify(next.body));
      const t = await verifyJwt(idp, next.body.access_token);
      assert.deepEqual(t.xms_cc, ['cp1'], `scope ${scope}`);
      assert.deepEqual(t.acrs, ['c1']);
      rt = next.body.refresh_token;
    }

    // A token request's claims may declare it too: at the code redemption (as MSAL sends them)…
    const plain = await signIn(idp, browser, { expectLogin: false });
    const redeemed = await token(idp, {
      grant_type: 'authorization_code',
      client_id: SB.clientId,
      code: plain.code,
      redirect_uri: REDIRECT_URI,
      code_verifier: plain.verifier,
      claims: CP1,
    });
    assert.equal(redeemed.res.status, 200, JSON.stringify(redeemed.body));
    const at2 = await verifyJwt(idp, redeemed.body.access_token);
    assert.deepEqual(at2.xms_cc, ['cp1']);
    assert.equal('acrs' in at2, false);
    // …and at a refresh, after which it stays.
    const other = await signInTo(idp, SB, sbUser('reader'), SCOPE);
    assert.equal('xms_cc' in await verifyJwt(idp, other.body.access_token), false);
    const declared = await refreshWithClaims(idp, other.body.refresh_token, CP1);
    assert.deepEqual((await verifyJwt(idp, declared.body.access_token)).xms_cc, ['cp1']);
    const kept = await refresh(idp, SB, declared.body.refresh_token);
    assert.deepEqual((await verifyJwt(idp, kept.body.access_token)).xms_cc, ['cp1']);
  });

  test('a malformed claims parameter is invalid_request, at the authorization and the token endpoint', async () => {
    const bad = [
      'not json',
      '[1]',
      'null',
      '"text"',
      claimsOf('acrs'),
      claimsOf({ acrs: 'c1' }),
      claimsOf({ acrs: { values: 'c1' } }),
      claimsOf({ xms_cc: { values: [1] } }),
      claimsOf({ acrs: { essential: true, value: 'c9' } }),
      JSON.stringify({ id_token: 'x' }),
    ];
    const browser = new Browser();
    for (const claims of bad) {
      const { challenge } = pkce();
      const step = await browser.follow(authorizeUrl(idp, { code_challenge: challenge, claims, state: 'm' }), origin);
      assert.ok(step.left, claims);
      const fp = fragmentParams(step.url);
      assert.equal(fp.get('error'), 'invalid_request', claims);
      assert.equal(fp.get('state'), 'm');
    }
    const { body } = await signInTo(idp, SB, sbUser('librarian'), SCOPE);
    for (const claims of bad) {
      const r = await refreshWithClaims(idp, body.refresh_token, claims, { origin: APP_ORIGIN });
      assert.equal(r.res.status, 400, claims);
      assert.equal(r.body.error, 'invalid_request', claims);
    }
    const unknown = await refreshWithClaims(idp, body.refresh_token, claimsOf({ acrs: { value: 'c9' } }));
    assert.match(unknown.body.error_description, /unknown authentication context c9 .*c1, c2/);
    // The refresh token was not spent by the refused requests.
    const ok = await refresh(idp, SB, body.refresh_token);
    assert.equal(ok.res.status, 200, JSON.stringify(ok.body));
  });
});

describe('claims challenges: a tenant with its own authentication contexts', () => {
  test('startIdp({ authContexts }) replaces the table', async () => {
    await assert.rejects(startIdp({ port: 0, quiet: true, authContexts: { c1: { name: 'x' } } }), /silent/);
    const idp = await startIdp({
      port: 0,
      quiet: true,
      appOrigins: [APP_ORIGIN],
      authContexts: { c7: { name: 'Compliant device', silent: true }, c8: { silent: false } },
    });
    try {
      assert.deepEqual(idp.authContexts, {
        c7: { name: 'Compliant device', silent: true }, c8: { name: 'c8', silent: false },
      });
      const { body } = await signInTo(idp, SB, sbUser('reader'), SCOPE);
      const c1 = await refreshWithClaims(idp, body.refresh_token, C1);
      assert.equal(c1.body.error, 'invalid_request');
      assertInteractionRequired(
        await refreshWithClaims(idp, body.refresh_token, claimsOf({ acrs: { value: 'c8' } })),
        SB.apiAppId,
      );
      const c7 = await refreshWithClaims(idp, body.refresh_token, claimsOf({ acrs: { value: 'c7' } }));
      assert.equal(c7.res.status, 200, JSON.stringify(c7.body));
      assert.deepEqual((await verifyJwt(idp, c7.body.access_token)).acrs, ['c7']);
    } finally {
      await idp.close();
    }
  });
});
