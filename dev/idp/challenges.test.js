// Tests of step-up authentication (RFC 9470: acr_values, max_age, acr and auth_time in the tokens).
// Run: node --test dev/idp/
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { startIdp } from './server.js';
import {
  APP_ORIGIN, Browser, SB, TIMEOUT_MS, authorizeUrl, fragmentParams, pkce, redeem, refresh, signIn,
  verifyJwt,
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
    assert.match(html, /class="notice"[^>]*>Multi-factor authentication is required/);
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
