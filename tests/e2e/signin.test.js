// End to end: a person signs in through the real identity provider in headless Chromium, and
// hostile or broken callbacks end in a readable error with nothing stored and nothing executed.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { registrations } from '../../dev/idp/registrations.js';
import { finish } from './browser.js';
import { useStack } from './fixture.js';

const users = Object.fromEntries(registrations[0].users.map((u) => [u.username.split('@')[0], u]));

describe('sign-in', () => {
  const ctx = useStack();

  test('a reader signs in and sees their name; tokens live in sessionStorage only', async () => {
    const { page, app } = await ctx.newApp();
    await app.open('/');
    await app.testId('sign-in').waitFor();
    assert.match(await page.locator('main').innerText(), /StudyBuilder API/);

    await app.testId('sign-in').click();
    await app.idp.signIn(users.reader.username, users.reader.password);
    await app.testId('user-menu').waitFor();

    assert.match(await app.userName(), new RegExp(users.reader.name));
    assert.equal(new URL(page.url()).pathname, '/');
    assert.equal(new URL(page.url()).hash, '', 'the authorization response is gone from the address bar');

    const { session, local } = await app.storage();
    assert.deepEqual(local, {}, 'nothing in localStorage');
    const stored = JSON.parse(session['gatehouse.session']);
    assert.equal(stored.version, 2);
    assert.match(stored.handover_key, /^[\w-]{43}$/, 'a 256-bit key seals hand-overs to twin tabs');
    assert.match(stored.access_token, /^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.ok(stored.refresh_token, 'a refresh token was issued for offline_access');
    assert.ok(stored.id_token);
    assert.equal(Object.keys(session).filter((k) => k.startsWith('gatehouse.login.')).length, 0,
      'the single-use login state was consumed');

    const claims = JSON.parse(Buffer.from(stored.access_token.split('.')[1], 'base64url'));
    assert.equal(claims.aud, '' + ctx.stack.config.OAUTH_API_APP_ID);
    assert.deepEqual([...claims.roles].sort(), ['Library.Read', 'Study.Read']);

    await app.openProfile();
    assert.deepEqual((await app.roles()).sort(), ['Library.Read', 'Study.Read']);
    assert.deepEqual(page.problems, []);
    await finish(page);
  });

  test('a deep link survives the round trip to the provider', async () => {
    const { page, app } = await ctx.newApp();
    // Opened signed out on an API view: nginx serves the app shell for the route (SPA fallback).
    await app.open('/views/library-items?from=link');
    await app.testId('sign-in').click();
    await app.idp.signIn(users.author.username, users.author.password);
    await app.testId('user-menu').waitFor();
    const url = new URL(page.url());
    assert.equal(url.pathname + url.search, '/views/library-items?from=link');
    await page.getByTestId('api-status').filter({ hasText: '200' }).waitFor();
    await finish(page);
  });

  test('reloading the callback page does not redeem the code again', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(users.reader);
    const before = await app.storedSession();
    const tokenRequests = [];
    page.on('request', (r) => { if (r.url().endsWith('/token')) tokenRequests.push(r.url()); });
    // After sign-in the address bar held /oauth-callback without the response: reload it.
    await app.open('/oauth-callback');
    await app.testId('user-menu').waitFor();
    assert.equal(new URL(page.url()).pathname, '/');
    assert.deepEqual(await app.storedSession(), before);
    assert.equal(tokenRequests.length, 0);
    await finish(page);
  });

  test('a reload keeps the session without a round trip to the provider', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(users.super);
    const before = await app.storedSession();
    const idpRequests = [];
    page.on('request', (r) => { if (r.url().startsWith(ctx.stack.idp.issuer.replace(/\/v2\.0$/, ''))) idpRequests.push(r.url()); });
    await page.reload();
    await app.testId('user-menu').waitFor();
    assert.match(await app.userName(), /Sam Superuser/);
    assert.deepEqual(await app.storedSession(), before);
    assert.equal(idpRequests.filter((u) => u.includes('/token')).length, 0, 'no token request on reload');
    await finish(page);
  });

  test('a user without roles sees an explicit "no roles" line', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(users.norole);
    await app.openProfile();
    await app.testId('profile-no-roles').waitFor();
    assert.equal(await app.testId('profile-role').count(), 0);
    await finish(page);
  });

  test('sign-out clears the session, ends the provider session and says so on return', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(users.librarian);
    await app.openProfile();
    const returns = [];
    page.on('request', (r) => {
      if (r.isNavigationRequest() && r.url().startsWith(`${ctx.stack.appUrl}/?`)) returns.push(r.url());
    });
    const ends = page.waitForRequest((r) => new URL(r.url()).pathname.endsWith('/logout'));
    await app.testId('sign-out').click();
    const end = new URL((await ends).url());
    assert.match(end.searchParams.get('state'), /^[\w-]{22}$/, 'a fresh 128-bit state on the end-session request');
    assert.equal(end.searchParams.get('post_logout_redirect_uri'), `${ctx.stack.appUrl}/`);
    await app.testId('signed-out-notice').waitFor();
    assert.match(await app.testId('signed-out-notice').innerText(), /You are signed out\.\s+Your identity provider has ended your session too/);
    await app.testId('sign-in').waitFor();
    assert.deepEqual(returns.map((u) => new URL(u).searchParams.get('state')), [end.searchParams.get('state')],
      'the provider came back with the same state');
    assert.equal(page.url(), `${ctx.stack.appUrl}/`, 'the state is taken out of the address bar');
    const { session, local } = await app.storage();
    // What stays is public: config.json and the provider's discovery document and key set.
    const PUBLIC = ['gatehouse.config', 'gatehouse.provider.discovery', 'gatehouse.provider.jwks'];
    assert.deepEqual(Object.keys(session).filter((k) => k.startsWith('gatehouse') && !PUBLIC.includes(k)), []);
    assert.doesNotMatch(JSON.stringify(session), /ey[\w-]{10,}\./, 'no token anywhere');
    assert.deepEqual(local, {});
    // The same return loaded again (a replay) says nothing, nor does a state this tab never sent.
    for (const url of [returns[0], `${ctx.stack.appUrl}/?state=${'A'.repeat(22)}`]) {
      await page.goto(url);
      await app.testId('sign-in').waitFor();
      assert.equal(await app.testId('signed-out-notice').count(), 0, url);
    }
    // The provider session is gone too: signing in again asks for the password.
    await app.testId('sign-in').click();
    await app.idp.waitFor();
    await finish(page);
  });

  test('without an end-session endpoint the sign-out stays here and says the provider may remember', async () => {
    const { page, app } = await ctx.newApp();
    // A provider whose discovery document names no end_session_endpoint.
    await page.route((url) => url.pathname.endsWith('/.well-known/openid-configuration'), async (route) => {
      const response = await route.fetch();
      const { end_session_endpoint: _, ...metadata } = await response.json();
      await route.fulfill({ response, json: metadata });
    });
    await app.signIn(users.reader);
    await app.openProfile();
    await app.testId('sign-out').click();
    await app.testId('signed-out-notice').waitFor();
    assert.match(await app.testId('signed-out-notice').innerText(), /may still have you signed in/);
    assert.equal(page.url(), `${ctx.stack.appUrl}/`);
    assert.equal((await app.storage()).session['gatehouse.session'], undefined);
    await finish(page);
  });

  test('a foreign state does not consume the sign-out on its way; an old one expires', async () => {
    const { page, app } = await ctx.newApp();
    await app.open('/');
    await app.testId('sign-in').waitFor();
    // The record a sign-out keeps while the person is at the provider (as the first test shows).
    const pending = (state, age) => page.evaluate(([s, a]) => sessionStorage.setItem('gatehouse.signout',
      JSON.stringify({ state: s, created_at_ms: Date.now() - a })), [state, age]);
    const stored = () => page.evaluate(() => sessionStorage.getItem('gatehouse.signout'));
    await pending('Qk9vYmFyYmF6cXV4MTIzNA', 1000);

    await page.goto(`${ctx.stack.appUrl}/?state=forged`);
    await app.testId('sign-in').waitFor();
    assert.equal(await app.testId('signed-out-notice').count(), 0, 'a forged state is ignored');
    assert.equal(new URL(page.url()).search, '?state=forged', 'and left alone');
    assert.ok(await stored(), 'the sign-out on its way still waits');

    await page.goto(`${ctx.stack.appUrl}/?state=Qk9vYmFyYmF6cXV4MTIzNA`);
    await app.testId('signed-out-notice').waitFor();
    assert.equal(await stored(), null, 'consumed');
    await app.testId('dismiss-signed-out').click();
    assert.equal(await app.testId('signed-out-notice').count(), 0, 'dismissed');

    await pending('T2xkc3RhdGVvbGRzdGF0ZQ', 11 * 60_000);
    await page.goto(`${ctx.stack.appUrl}/?state=T2xkc3RhdGVvbGRzdGF0ZQ`);
    await app.testId('sign-in').waitFor();
    assert.equal(await app.testId('signed-out-notice').count(), 0, 'a sign-out older than ten minutes says nothing');
    assert.equal(await stored(), null, 'and is dropped');
    await finish(page);
  });
});

describe('hostile and broken callbacks', () => {
  const ctx = useStack();

  async function assertRejected(app, pattern) {
    const error = app.testId('auth-error');
    await error.waitFor();
    assert.match(await error.innerText(), pattern);
    const { session, local } = await app.storage();
    assert.equal(session['gatehouse.session'], undefined, 'no session stored');
    assert.deepEqual(local, {});
    assert.equal(new URL(app.page.url()).hash, '', 'the response was removed from the address bar');
  }

  test('a tampered state is rejected', async () => {
    const { page: page2, app: app2 } = await ctx.newApp();
    await app2.open('/');
    await app2.testId('sign-in').click();
    await app2.idp.waitFor();
    // Stop the app from consuming the response, so we can replay it with a different state.
    await page2.route('**/*.wasm', (route) => route.abort());
    await app2.idp.signIn(users.reader.username, users.reader.password);
    await page2.waitForURL(/oauth-callback#/);
    const callback = page2.url();
    await page2.unroute('**/*.wasm');
    const tampered = callback.replace(/state=[^&]+/, 'state=forged-state-value');
    await page2.goto('about:blank');
    await page2.goto(tampered);
    await assertRejected(app2, /does not match a sign-in started in this tab/);
    await finish(page2);
  });

  test('a replayed callback URL cannot be redeemed twice', async () => {
    const { page, app } = await ctx.newApp();
    await app.open('/');
    await app.testId('sign-in').click();
    let callback;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame() && f.url().includes('/oauth-callback#')) callback = f.url();
    });
    await app.idp.signIn(users.reader.username, users.reader.password);
    await app.testId('user-menu').waitFor();
    assert.match(callback, /code=/);
    // Same tab, same sessionStorage, session dropped: the used response must not sign in again.
    await page.evaluate(() => sessionStorage.removeItem('gatehouse.session'));
    await page.goto(callback);
    await assertRejected(app, /already used|does not match/);
    await finish(page);
  });

  const HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';

  test('an error redirect for a sign-in started here shows its description as text', async () => {
    const { page, app } = await ctx.newApp();
    await app.open('/');
    const authorize = page.waitForRequest((r) => r.url().includes('/oauth2/v2.0/authorize'));
    await app.testId('sign-in').click();
    const state = new URL((await authorize).url()).searchParams.get('state');
    await app.idp.waitFor();
    const params = new URLSearchParams({ error: 'access_denied', error_description: HOSTILE, state, iss: ctx.stack.idp.issuer });
    await page.goto(`${ctx.stack.appUrl}/oauth-callback#${params}`);
    await assertRejected(app, /access_denied/);
    assert.ok((await app.testId('auth-error').innerText()).includes(HOSTILE), 'shown literally');
    assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no script ran');
    assert.equal(await page.locator('#main img').count(), 0, 'no element was injected');
    await finish(page);
  });

  test('an error redirect this tab did not ask for is refused without its text', async () => {
    const { page, app } = await ctx.newApp();
    await app.open('/');
    await app.testId('sign-in').click();
    await app.idp.waitFor();
    await page.goto(`${ctx.stack.appUrl}/oauth-callback#error=access_denied&error_description=${encodeURIComponent(HOSTILE)}&state=forged`);
    await assertRejected(app, /does not match a sign-in started in this tab/);
    const text = await app.testId('auth-error').innerText();
    assert.ok(!text.includes('access_denied') && !text.includes('onerror'), `the attacker's text is not shown: ${text}`);
    assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no script ran');
    await finish(page);
  });

  test('a token endpoint that never answers ends in a message naming it, not an endless spinner', async () => {
    const { page, app } = await ctx.newApp();
    await app.open('/');
    await app.testId('sign-in').click();
    await app.idp.waitFor();
    // The provider accepts the sign-in, then its token endpoint swallows the code redemption.
    await page.route('**/token', () => new Promise(() => {}));
    await app.idp.signIn(users.reader.username, users.reader.password);
    await app.testId('progress').waitFor();
    const started = Date.now();
    const error = app.testId('auth-error');
    await error.waitFor({ timeout: 30_000 });
    const waited = Date.now() - started;
    assert.ok(waited >= 15_000 && waited < 28_000, `gave up after the 20 s timeout (${waited} ms)`);
    const text = await error.innerText();
    assert.match(text, /could not be reached/i);
    assert.match(text, /\/token while redeeming the authorization code: no answer within 20 seconds/);
    await app.testId('sign-in').waitFor(); // "Sign in again"
    const { session } = await app.storage();
    assert.equal(session['gatehouse.session'], undefined, 'no session stored');
    await finish(page);
  });

  test('cancelling at the provider ends in a readable error and a way to try again', async () => {
    const { page, app } = await ctx.newApp();
    await app.open('/');
    await app.testId('sign-in').click();
    await app.idp.cancel();
    await assertRejected(app, /access_denied/);
    await app.testId('sign-in').waitFor();
    await finish(page);
  });
});
