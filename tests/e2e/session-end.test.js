// End to end: a session that says when it ends. The dev IdP ends refresh tokens as Entra ends a
// single-page app's (a lifetime fixed at the sign-in, `refresh_token_expires_in`, AADSTS700084
// after it); the profile shows the end, a notice offers "Stay signed in" before it, and that
// signs in again silently (prompt=none) back to the same page. A registration without refresh
// tokens keeps its session until the access token expires, then says why it ended.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { registrations } from '../../dev/idp/registrations.js';
import { finish } from './browser.js';
import { useStack } from './fixture.js';

const reader = registrations[0].users.find((u) => u.username.startsWith('reader'));
const NO_REFRESH = registrations.find((r) => r.name === 'No refresh');
const ME = [{ id: 'me', title: 'Who am I', method: 'GET', path: '/me', roles: [] }];

/** Records the trips to the provider's authorization endpoint and the refresh grants. */
function watch(page, issuer) {
  const seen = { authorizations: [], refreshes: 0 };
  const base = issuer.replace(/\/v2\.0$/, '');
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(base)) return;
    if (r.isNavigationRequest() && new URL(url).pathname.endsWith('/authorize')) {
      seen.authorizations.push(new URL(url).searchParams);
    }
    if (r.method() === 'POST' && r.postData()?.includes('grant_type=refresh_token')) seen.refreshes += 1;
  });
  return seen;
}

describe('the session end, told in time', () => {
  // Refresh tokens end 40 s after the sign-in; the notice comes 25 s before.
  const ctx = useStack({ ttl: { refreshToken: 40 }, config: { SESSION_NOTICE_MINUTES: '0.4167' } });

  test('the profile shows the end; "Stay signed in" before it signs in again silently, back to the page', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(reader, '/views/studies?from=notice');
    const first = await app.storedSession();
    const lifetime = first.refresh_expires_at_ms - first.signed_in_at_ms;
    assert.ok(lifetime > 35_000 && lifetime <= 40_000, `the provider said ${lifetime} ms`);
    await app.openProfile();
    assert.match(await app.testId('session-ends').innerText(), /^in \d+ s, at /);
    assert.equal(await app.testId('session-ending').count(), 0, 'no notice 40 s ahead');
    await page.keyboard.press('Escape');

    const notice = app.testId('session-ending');
    await notice.waitFor({ timeout: 25_000 });
    assert.ok(Date.now() >= first.refresh_expires_at_ms - 26_000, 'not before its lead');
    assert.match(await notice.innerText(), /Your session ends in \d+ s\./);
    await app.testId('session-ending-dismiss').click();
    assert.equal(await notice.count(), 0, 'dismissed: it does not block the page');
    // Dismissed for this end only: a reload brings it back (the end is still the same).
    await page.reload();
    await notice.waitFor();

    const seen = watch(page, ctx.stack.idp.issuer);
    await app.testId('stay-signed-in').click();
    await app.testId('user-menu').waitFor();
    await page.waitForFunction((old) => {
      const s = JSON.parse(sessionStorage.getItem('gatehouse.session') ?? 'null');
      return s && s.signed_in_at_ms > old;
    }, first.signed_in_at_ms);
    const asked = seen.authorizations.at(-1);
    assert.equal(asked.get('prompt'), 'none', 'silently first');
    assert.equal(asked.get('login_hint'), reader.username);
    const url = new URL(page.url());
    assert.equal(url.pathname + url.search, '/views/studies?from=notice', 'back on the same page');
    const second = await app.storedSession();
    assert.ok(second.refresh_expires_at_ms > first.refresh_expires_at_ms, 'a new end');
    assert.equal(await notice.count(), 0, 'the notice is gone');
    assert.deepEqual(page.problems, []);
    await finish(page);
  });

  test('without a provider session, "Stay signed in" falls back to the sign-in page', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(reader, '/views/studies');
    await app.testId('session-ending').waitFor({ timeout: 25_000 });
    // The provider's session cookie is gone (signed out elsewhere, another browser profile).
    const idpOrigin = new URL(ctx.stack.idp.issuer).origin;
    const cookies = await page.context().cookies(idpOrigin);
    await page.context().clearCookies();
    assert.ok(cookies.length > 0);
    const seen = watch(page, ctx.stack.idp.issuer);
    await app.testId('stay-signed-in').click();
    await app.idp.signIn(reader.username, reader.password);
    await app.testId('user-menu').waitFor();
    assert.deepEqual(seen.authorizations.map((a) => a.get('prompt')), ['none', null], 'silent, then the page');
    assert.equal(new URL(page.url()).pathname, '/views/studies');
    await finish(page);
  });
});

describe('the end that comes anyway', () => {
  // Access tokens of 5 s refresh every few seconds; the refresh token ends 8 s after sign-in.
  const ctx = useStack({ ttl: { accessToken: 5, idToken: 60, refreshToken: 8 } });

  test('AADSTS700084 ends the session with a page that says so and keeps the route', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(reader, '/views/library-items?kept=1');
    const error = app.testId('auth-error');
    await error.waitFor({ timeout: 20_000 });
    assert.match(await error.innerText(), /AADSTS700084/);
    assert.match(await error.innerText(), /24 hours: sign in again/, 'the hint for it');
    assert.equal(await app.storedSession(), null);
    // Signing in again: the provider's own session may still let the person through.
    await app.testId('sign-in').click();
    const login = page.locator('input[name=login]');
    await login.or(app.testId('user-menu')).first().waitFor();
    if (await login.isVisible()) await app.idp.signIn(reader.username, reader.password);
    await app.testId('user-menu').waitFor();
    const url = new URL(page.url());
    assert.equal(url.pathname + url.search, '/views/library-items?kept=1');
    await finish(page);
  });
});

describe('a provider that issues no refresh token', () => {
  const ctx = useStack({
    registration: NO_REFRESH,
    ttl: { accessToken: 12, idToken: 60 },
    config: { OAUTH_SCOPES: 'access_as_user', VIEWS: ME, API_NAME: 'the data API' },
  });

  test('the session lasts until its access token expires, says so, then ends with the reason', async () => {
    const { page, app } = await ctx.newApp();
    const seen = watch(page, ctx.stack.idp.issuer);
    await app.signIn(NO_REFRESH.users[0], '/views/me');
    await page.getByTestId('api-status').filter({ hasText: '200' }).waitFor();
    const session = await app.storedSession();
    assert.equal(session.refresh_token, null, 'none was issued');
    await app.openProfile();
    assert.match(await app.testId('session-ends').innerText(), /with the access token, in \d+ s \(no refresh token\)/);
    // The notice's ten minutes are longer than the whole session: it shows at once.
    await app.testId('session-ending').waitFor();

    // Half-way, still signed in and nothing tried: a refresh would be refused.
    await new Promise((r) => setTimeout(r, Math.max(0, session.expires_at_ms - 6_000 - Date.now())));
    assert.equal(await app.testId('user-menu').count(), 1);
    assert.equal(seen.refreshes, 0, 'no refresh grant');
    assert.equal(await app.testId('auth-error').count(), 0);

    const error = app.testId('auth-error');
    await error.waitFor({ timeout: 15_000 });
    assert.ok(Date.now() >= session.expires_at_ms, 'not before the access token expired');
    assert.match(await error.innerText(), /no refresh token, and the access token has expired/);
    assert.equal(new URL(page.url()).pathname, '/views/me', 'the route is kept');
    await finish(page);
  });
});
