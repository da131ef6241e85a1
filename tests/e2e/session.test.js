// End to end: keeping a session alive. Short-lived tokens (30 s) are refreshed without the
// person noticing; duplicated tabs sharing one rotating refresh token both survive; a refresh
// the provider refuses ends in "sign in again" that keeps the route and the username.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { registrations } from '../../dev/idp/registrations.js';
import { finish } from './browser.js';
import { Gatehouse } from './pages.js';
import { useStack } from './fixture.js';

const users = Object.fromEntries(registrations[0].users.map((u) => [u.username.split('@')[0], u]));

/** Polls `probe` until it returns a truthy value (bounded). */
async function eventually(probe, { timeout = 10_000, interval = 200, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

describe('session keeping', () => {
  const ctx = useStack({ ttl: { accessToken: 30, idToken: 60 } });

  /** Opens a twin of `page` with window.open (it starts with a copy of sessionStorage), signed in. */
  async function openTwin(page) {
    const [twinPage] = await Promise.all([
      page.context().waitForEvent('page'),
      page.evaluate(() => window.open(window.location.href)),
    ]);
    const twin = new Gatehouse(twinPage, ctx.stack.appUrl);
    await twin.testId('user-menu').waitFor();
    return twin;
  }

  test('a 30-second access token is refreshed before it expires, silently', async () => {
    const { page, app } = await ctx.newApp();
    const refreshes = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/token') && r.postData()?.includes('grant_type=refresh_token')) {
        refreshes.push(new URLSearchParams(r.postData()));
      }
    });
    await app.signIn(users.reader);
    const first = await app.storedSession();
    const lifetime = first.expires_at_ms - first.obtained_at_ms;
    assert.ok(lifetime <= 30_000 && lifetime > 25_000, `lifetime ${lifetime}`);

    const second = await eventually(async () => {
      const s = await app.storedSession();
      return s && s.access_token !== first.access_token ? s : null;
    }, { timeout: 35_000, interval: 500, what: 'a refreshed access token' });

    assert.ok(Date.now() < first.expires_at_ms, 'refreshed before the old token expired');
    assert.equal(refreshes.length, 1, 'exactly one refresh request');
    assert.match(refreshes[0].get('scope'), /api:\/\/d3e62185-f259-4d5b-8a8c-a9134fd34d47\/API\.call/, 'scope is sent on refresh');
    assert.equal(refreshes[0].get('client_id'), ctx.stack.config.OAUTH_UI_APP_ID);
    assert.notEqual(second.refresh_token, first.refresh_token, 'the provider rotated the refresh token');
    assert.ok(second.refreshed_at_ms > first.obtained_at_ms);
    // Still signed in, on the same page, nothing shown to the person but the new expiry.
    assert.match(await app.userName(), /Rita Reader/);
    assert.equal(await app.testId('auth-error').count(), 0);
    await app.openProfile();
    assert.notEqual(await app.testId('token-refreshed').innerText(), 'not yet');
    assert.deepEqual(page.problems, []);
    await finish(page);
  });

  test('a duplicated tab and its original both survive refresh-token rotation; others overhear nothing', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(users.author);
    const twin = await openTwin(page);
    const shared = await app.storedSession();
    // Another page of the same origin in the same browser, not a twin: it listens on the
    // channel the tabs hand over on.
    const eavesdropper = await page.context().newPage();
    await eavesdropper.goto(`${ctx.stack.appUrl}/`);
    await eavesdropper.evaluate(() => {
      window.overheard = [];
      new BroadcastChannel('gatehouse.session').onmessage = (e) => window.overheard.push(e.data);
    });
    assert.equal((await twin.storedSession()).refresh_token, shared.refresh_token, 'the twin starts with a copy');

    /** `from` refreshes from its panel; resolves to its new session once `to` holds it too. */
    const refreshAndHandOver = async (from, to, previous, names) => {
      await from.openProfile();
      await from.testId('refresh-now').click();
      const after = await eventually(async () => {
        const s = await from.storedSession();
        return s.refresh_token !== previous.refresh_token ? s : null;
      }, { what: `${names.from} to refresh` });
      await eventually(async () => (await to.storedSession()).refresh_token === after.refresh_token,
        { what: `${names.to} to adopt the rotated refresh token` });
      return after;
    };

    // The original refreshes: the twin must receive the rotated tokens.
    const afterA = await refreshAndHandOver(app, twin, shared, { from: 'the original', to: 'the twin' });
    assert.ok(await app.testId('profile-panel').isVisible(), 'the open panel survives the refresh');

    // Now the twin refreshes with the token it was handed; the provider accepts it.
    await refreshAndHandOver(twin, app, afterA, { from: 'the twin', to: 'the original' });
    assert.equal(await app.testId('auth-error').count(), 0);
    assert.equal(await twin.testId('auth-error').count(), 0);
    assert.match(await twin.userName(), /Ada Author/);

    // Both hand-overs crossed the channel sealed: no token, no claim, only whom they are for.
    const overheard = await eavesdropper.evaluate(() => window.overheard);
    assert.equal(overheard.length, 2, `two hand-overs overheard: ${JSON.stringify(overheard)}`);
    const secrets = [shared, afterA, await app.storedSession()]
      .flatMap((s) => [s.refresh_token, s.access_token, s.id_token, s.handover_key]);
    for (const text of overheard) {
      assert.deepEqual(Object.keys(JSON.parse(text)), ['to', 'iv', 'sealed']);
      for (const secret of secrets) assert.ok(!text.includes(secret), 'no token or key in the message');
      assert.doesNotMatch(text, /Ada Author|ey[\w-]{10,}\./);
    }
    await eavesdropper.close();
    await finish(page);
  });

  test('signing out in one tab signs its duplicated twin out too', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(users.author);
    const twin = await openTwin(page);
    await twin.open('/views/studies');
    await twin.testId('user-menu').waitFor();

    await app.openProfile();
    await app.testId('sign-out').click();
    // The twin shows the signed-out page at once, with nothing left in its storage.
    await twin.testId('sign-in').waitFor();
    assert.equal(await twin.storedSession(), null, 'the twin dropped its copy of the session');
    assert.equal(new URL(twin.page.url()).pathname, '/');
    await finish(page);
  });

  for (const [how, locks] of [
    ['throws', '{ request() { throw new Error("locks broken"); } }'],
    ['rejects', '{ request() { return Promise.reject(new Error("locks broken")); } }'],
    ['is missing', 'undefined'],
  ]) {
    test(`when navigator.locks ${how}, the refresh still runs`, async () => {
      const { page, app } = await ctx.newApp();
      await page.addInitScript(`Object.defineProperty(navigator, 'locks', { value: ${locks}, configurable: true });`);
      await app.signIn(users.reader);
      const before = await app.storedSession();
      await app.openProfile();
      await app.testId('refresh-now').click();
      await eventually(async () => (await app.storedSession())?.refresh_token !== before.refresh_token,
        { what: 'the refreshed session' });
      await app.testId('token-refreshed').filter({ hasNotText: 'not yet' }).waitFor();
      await finish(page);
    });
  }

  test('a refused refresh ends the session, keeps the route and pre-fills the username', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(users.librarian, '/?view=library');
    // Invalidate the refresh token as the provider would after Entra's 24-hour SPA limit.
    await app.patchStoredSession({ refresh_token: 'revoked-refresh-token' });
    await app.openProfile();
    await app.testId('refresh-now').click();
    const error = app.testId('auth-error');
    await error.waitFor();
    assert.match(await error.innerText(), /session has ended/i);
    assert.match(await error.innerText(), /invalid_grant/);
    assert.equal(await app.storedSession(), null, 'the dead session was removed');

    const authorize = page.waitForRequest((r) => r.url().includes('/oauth2/v2.0/authorize'));
    await app.testId('sign-in').click();
    const params = new URL((await authorize).url()).searchParams;
    assert.equal(params.get('login_hint'), users.librarian.username, 'login_hint was passed');
    // The provider still has its own session (as Entra would), so no password is asked.
    await app.testId('user-menu').waitFor();
    const url = new URL(page.url());
    assert.equal(url.pathname + url.search, '/?view=library', 'back on the same route');
    await finish(page);
  });

  test('a refresh that fails on the network is retried with backoff while the token is valid', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(users.reader);
    const first = await app.storedSession();
    // The identity provider becomes unreachable.
    const tokenUrl = `${ctx.stack.idp.issuer.replace(/\/v2\.0$/, '')}/oauth2/v2.0/token`;
    await page.route(tokenUrl, (route) => route.abort('connectionrefused'));
    await app.openProfile();
    await app.testId('refresh-now').click();
    const warning = app.testId('profile-panel').getByRole('status');
    await warning.waitFor();
    assert.match(await warning.innerText(), /Could not reach/);
    assert.equal(await app.testId('auth-error').count(), 0, 'still signed in');
    assert.equal((await app.storedSession()).access_token, first.access_token);
    // The provider comes back: the scheduled retry (2 s) renews the session by itself.
    await page.unroute(tokenUrl);
    await eventually(async () => (await app.storedSession()).access_token !== first.access_token,
      { timeout: 8_000, what: 'the retry to refresh' });
    await warning.waitFor({ state: 'detached' });
    page.problems = page.problems.filter((p) => !/ERR_CONNECTION_REFUSED|Failed to load/.test(p));
    assert.deepEqual(page.problems, []);
    await finish(page);
  });
});
