// The interop tier: the real app (release build, nginx with the production configuration and
// CSP) and the test API, signed in through an OpenID Connect provider this project did not write:
// Glewlwyd from Debian's packages (tests/interop/glewlwyd.js configures it). A person signs in
// with PKCE and fragment mode, sees their roles, the session is refreshed twice, the API accepts
// the bearer token, a reload keeps the session, and sign-out comes back to the app with
// "You are signed out".
//
// What Glewlwyd does differently, and what the configuration below does about it:
// - its access token's `aud` is the granted scope list unless the sign-in names an RFC 8707
//   resource: OAUTH_RESOURCE sends one, and the API checks that URI as its audience;
// - its access token carries the roles as one comma-joined string: the app reads them from the
//   ID token, where they are a JSON list (OAUTH_ROLES_TOKEN=id_token);
// - its refresh responses carry no new ID token: the profile stays the sign-in's;
// - it refuses a spent refresh token with an empty 400, no OAuth error: the session ends at
//   once, not after retrying until the access token expires;
// - its end-session page asks the person to confirm, then redirects back only with `state`.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { finish, launch, newPage } from '../e2e/browser.js';
import { freePort, startNginx } from '../e2e/nginx.js';
import { Gatehouse } from '../e2e/pages.js';
import { DIST, ROOT, startApi } from '../e2e/stack.js';
import { startGlewlwyd } from './glewlwyd.js';

const decodeJwt = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

describe('interop: Glewlwyd (Debian) as the provider', () => {
  const ctx = {};

  before(async () => {
    const started = Date.now();
    const port = await freePort();
    ctx.appUrl = `http://127.0.0.1:${port}`;
    ctx.cleanup = [];
    ctx.idp = await startGlewlwyd({
      appOrigins: [ctx.appUrl],
      redirectUris: [`${ctx.appUrl}/oauth-callback`],
      postLogoutRedirectUris: [`${ctx.appUrl}/`],
    });
    ctx.cleanup.push(() => ctx.idp.stop());
    const api = await startApi({
      OAUTH_METADATA_URL: ctx.idp.metadataUrl,
      OAUTH_API_APP_ID: ctx.idp.apiAudience,
      API_CORS_ORIGINS: ctx.appUrl,
    });
    ctx.cleanup.push(() => api.child.kill('SIGTERM'));
    ctx.apiUrl = api.url;
    const views = JSON.parse(readFileSync(`${ROOT}/public/config.json`, 'utf8')).VIEWS;
    const web = await startNginx({
      dist: DIST,
      port,
      env: {
        OAUTH_ENABLED: 'true',
        OAUTH_METADATA_URL: ctx.idp.metadataUrl,
        OAUTH_UI_APP_ID: ctx.idp.clientId,
        // Not Entra: the scope is sent as written, and the resource names the API.
        OAUTH_SCOPES: ctx.idp.apiScope,
        OAUTH_RESOURCE: ctx.idp.apiAudience,
        OAUTH_ROLES_TOKEN: 'id_token',
        API_BASE_URL: api.url,
        API_NAME: 'the StudyBuilder API (interop)',
        VIEWS: JSON.stringify(views),
      },
    });
    ctx.cleanup.push(() => web.stop());
    ctx.browser = await launch();
    console.log(`# Glewlwyd ${ctx.idp.version}, stack up in ${Date.now() - started} ms`);
  });

  after(async () => {
    await ctx.browser?.close();
    for (const step of (ctx.cleanup ?? []).reverse()) await step();
  });

  test('sign-in, roles, two refreshes, an API call, a reload and a sign-out that comes back', async () => {
    const page = await newPage(ctx.browser, { appOrigin: ctx.appUrl });
    const app = new Gatehouse(page, ctx.appUrl);
    const user = ctx.idp.users.author;

    // Sign-in: PKCE S256, fragment mode, the resource indicator.
    await app.open('/views/me?from=interop');
    const authorize = page.waitForRequest((r) => r.url().startsWith(`${ctx.idp.issuer}/auth`));
    await app.testId('sign-in').click();
    const request = new URL((await authorize).url());
    assert.equal(request.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(request.searchParams.get('response_mode'), 'fragment');
    assert.equal(request.searchParams.get('resource'), ctx.idp.apiAudience);
    assert.equal(request.searchParams.get('scope'), `openid profile email offline_access ${ctx.idp.apiScope}`);
    await ctx.idp.signIn(page, user);
    await app.testId('user-menu').waitFor();
    const landed = new URL(page.url());
    assert.equal(landed.pathname + landed.search, '/views/me?from=interop', 'back on the deep link');
    assert.equal(landed.hash, '');
    assert.match(await app.userName(), new RegExp(user.name));

    // The API accepts the bearer token: /me answers with the claims it validated, the roles from
    // Glewlwyd's comma-joined string among them.
    const apiCalls = [];
    page.on('request', (r) => {
      if (r.url().startsWith(ctx.apiUrl)) apiCalls.push(r.headers().authorization);
    });
    await page.getByTestId('api-status').filter({ hasText: '200' }).waitFor();
    const result = await app.testId('api-result').innerText();
    assert.match(result, new RegExp(ctx.idp.apiAudience.replace(/[/.]/g, '\\$&')));
    for (const role of user.roles) assert.match(result, new RegExp(role.replace('.', '\\.')));

    // Roles, from the ID token's list.
    await app.openProfile();
    assert.deepEqual((await app.roles()).sort(), [...user.roles].sort());

    // Two refreshes: each rotates the refresh token, the session stays.
    const tokens = [await app.storedSession()];
    for (let i = 0; i < 2; i++) {
      await app.testId('refresh-now').click();
      await page.waitForFunction((previous) => {
        const s = JSON.parse(sessionStorage.getItem('gatehouse.session') ?? 'null');
        return s && s.refresh_token !== previous;
      }, tokens.at(-1).refresh_token, { timeout: 15_000 });
      tokens.push(await app.storedSession());
    }
    assert.equal(new Set(tokens.map((t) => t.refresh_token)).size, 3, 'rotated twice');
    assert.equal(new Set(tokens.map((t) => t.access_token)).size, 3, 'a new access token each time');
    for (const t of tokens) assert.equal(decodeJwt(t.access_token).aud, ctx.idp.apiAudience);
    assert.deepEqual((await app.roles()).sort(), [...user.roles].sort(), 'roles kept without a new ID token');

    // A reload restores the session; the API still answers, with the refreshed token as bearer.
    apiCalls.length = 0;
    await page.reload();
    await app.testId('user-menu').waitFor();
    await page.getByTestId('api-status').filter({ hasText: '200' }).waitFor();
    assert.deepEqual(apiCalls, [`Bearer ${tokens.at(-1).access_token}`]);

    // Sign-out: Glewlwyd asks, then comes back with the state Gatehouse sent.
    await app.openProfile();
    const ends = page.waitForRequest((r) => r.url().startsWith(`${ctx.idp.issuer}/end_session`));
    await app.testId('sign-out').click();
    const end = new URL((await ends).url());
    assert.ok(end.searchParams.get('state'), 'the end-session request carries state');
    assert.equal(end.searchParams.get('id_token_hint'), tokens[0].id_token);
    await ctx.idp.signOut(page);
    await app.testId('signed-out-notice').waitFor();
    assert.equal(page.url(), `${ctx.appUrl}/`);
    const { session } = await app.storage();
    assert.equal(session['gatehouse.session'], undefined);
    assert.deepEqual(page.problems, []);
    await finish(page);
  });

  test('a spent refresh token, refused with an empty 400, ends the session at once', async () => {
    const page = await newPage(ctx.browser, { appOrigin: ctx.appUrl });
    const app = new Gatehouse(page, ctx.appUrl);
    await app.open('/');
    await app.testId('sign-in').click();
    await ctx.idp.signIn(page, ctx.idp.users.reader);
    await app.testId('user-menu').waitFor();
    const spent = (await app.storedSession()).refresh_token;
    await app.openProfile();
    await app.testId('refresh-now').click();
    await page.waitForFunction((previous) => JSON.parse(sessionStorage.getItem('gatehouse.session')).refresh_token !== previous,
      spent, { timeout: 15_000 });
    // The record holds the spent token again (as a tab would that missed the rotation).
    const refused = page.waitForResponse((r) => r.url() === `${ctx.idp.issuer}/token` && r.status() === 400);
    await app.patchStoredSession({ refresh_token: spent });
    await app.openProfile();
    await app.testId('refresh-now').click();
    assert.equal(await (await refused).text(), '', 'Glewlwyd says nothing');
    const error = app.testId('auth-error');
    await error.waitFor({ timeout: 5_000 });
    assert.match(await error.innerText(), /session has ended/i);
    assert.equal(await app.storedSession(), null, 'nothing kept');
    await finish(page);
  });
});
