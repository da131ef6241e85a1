// End to end: several APIs under one sign-in, as an Azure TRE front end needs them. The TRE API
// (roles TREAdmin/TREUser) is the main API; workspaces alpha and beta are other APIs with their
// own app registrations and roles (WorkspaceOwner/WorkspaceResearcher), and Microsoft Graph gives
// the profile its photo and job title. One sign-in; each API gets its own token, redeemed with the
// refresh token on first use; a 401 or missing consent on one API touches no other.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { registrations, TRE_WORKSPACE_ALPHA, TRE_WORKSPACE_BETA } from '../../dev/idp/registrations.js';
import { finish } from './browser.js';
import { useStack } from './fixture.js';

const TRE = registrations.find((r) => r.name === 'Azure TRE');
const users = Object.fromEntries(TRE.users.map((u) => [u.username.split('@')[0], u]));
const decodeJwt = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

const WORKSPACE_ROLES = ['WorkspaceOwner', 'WorkspaceResearcher'];

/** The Azure TRE configuration an operator would write, pointed at the local stack. */
const treConfig = ({ idp, apiUrl }) => ({
  OAUTH_SCOPES: 'user_impersonation',
  API_NAME: 'the Azure TRE API',
  RESOURCES: [
    { id: 'alpha', name: 'TRE workspace alpha', app_id_uri: `api://${TRE_WORKSPACE_ALPHA}`, scopes: ['user_impersonation'], base_url: `${apiUrl}/api` },
    { id: 'beta', name: 'TRE workspace beta', app_id_uri: `api://${TRE_WORKSPACE_BETA}`, scopes: 'user_impersonation', base_url: `${apiUrl}/api` },
  ],
  VIEWS: [
    { id: 'workspaces', title: 'Workspaces', path: '/api/workspaces', roles: ['TREUser', 'TREAdmin'] },
    { id: 'ws-alpha', title: 'Workspace alpha', resource: 'alpha', path: '/workspaces/alpha', roles: WORKSPACE_ROLES },
    { id: 'ws-beta', title: 'Workspace beta', resource: 'beta', path: '/workspaces/beta', roles: WORKSPACE_ROLES },
  ],
  GRAPH_PROFILE: 'true',
  GRAPH_BASE_URL: idp.graphUrl,
});

/** Every token request the page makes, with its grant and scope. */
function recordTokenRequests(page) {
  const grants = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/token')) {
      const form = new URLSearchParams(r.postData() ?? '');
      grants.push({ grant: form.get('grant_type'), scope: form.get('scope') ?? '' });
    }
  });
  return grants;
}

describe('several APIs under one sign-in', () => {
  const ctx = useStack({ registration: TRE, config: treConfig });

  const openView = async (app, id) => {
    await app.testId(`view-${id}`).click();
    await app.page.waitForURL(new RegExp(`/views/${id}$`));
  };
  const status = (app) => app.page.getByTestId('api-status');

  test('one sign-in calls two APIs with two tokens, each with its own audience and roles', async () => {
    const { page, app } = await ctx.newApp();
    const grants = recordTokenRequests(page);
    await app.signIn(users.admin);

    await openView(app, 'workspaces');
    await status(app).filter({ hasText: '200' }).waitFor();
    await openView(app, 'ws-alpha');
    await status(app).filter({ hasText: '200' }).waitFor();
    assert.match(await app.testId('api-result').innerText(), /alpha/);

    const stored = await app.storedSession();
    const core = decodeJwt(stored.access_token);
    const alpha = decodeJwt(stored.resources.alpha.access_token);
    assert.equal(core.aud, TRE.apiAppId);
    assert.deepEqual(core.roles, ['TREAdmin']);
    assert.equal(alpha.aud, TRE_WORKSPACE_ALPHA);
    assert.deepEqual(alpha.roles, ['WorkspaceOwner']);
    assert.equal(alpha.oid, core.oid, 'the same person');
    assert.deepEqual(grants.map((g) => g.grant), ['authorization_code', 'refresh_token'],
      'one sign-in, then one refresh grant for the workspace');
    assert.match(grants[1].scope, new RegExp(`api://${TRE_WORKSPACE_ALPHA}/user_impersonation`));
    assert.doesNotMatch(grants[1].scope, new RegExp(TRE.apiAppId), 'one API per grant');

    // Again: the workspace's token is reused, no grant.
    await openView(app, 'workspaces');
    await openView(app, 'ws-alpha');
    await status(app).filter({ hasText: '200' }).waitFor();
    assert.equal(grants.length, 2);

    // The profile groups the roles by API.
    await app.openProfile();
    assert.deepEqual(await app.roles(), ['TREAdmin']);
    const alphaGroup = page.locator('[data-testid=profile-resource][data-resource=alpha]');
    await alphaGroup.getByTestId('profile-resource-role').first().waitFor();
    assert.deepEqual(await alphaGroup.getByTestId('profile-resource-role').allInnerTexts(), ['WorkspaceOwner']);
    assert.match(await alphaGroup.innerText(), /TRE workspace alpha/);
    assert.deepEqual(page.problems, []);
    await finish(page);
  });

  test('a 401 from one API redeems a new token for that API alone', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(users.user);
    await app.open('/views/ws-alpha');
    await status(app).filter({ hasText: '200' }).waitFor();
    const before = await app.storedSession();

    // The workspace API stops accepting the token the session holds for it (revoked, say).
    const forged = before.resources.alpha.access_token.replace(/\.[\w-]+$/, '.c2lnbmF0dXJl');
    await app.open('/');
    await app.testId('user-menu').waitFor();
    await app.patchStoredSession({ resources: { alpha: { ...before.resources.alpha, access_token: forged } } });
    await app.testId('user-menu').waitFor();
    const grants = recordTokenRequests(page);
    const rejected = page.waitForResponse((r) => r.url().endsWith('/workspaces/alpha') && r.status() === 401);
    await openView(app, 'ws-alpha');
    await rejected;
    await status(app).filter({ hasText: '200' }).waitFor();

    assert.equal(grants.length, 1, 'one grant');
    assert.match(grants[0].scope, new RegExp(`api://${TRE_WORKSPACE_ALPHA}/`), 'for the workspace only');
    const after = await app.storedSession();
    assert.notEqual(after.resources.alpha.access_token, forged);
    assert.equal(after.access_token, before.access_token, "the main API's token is untouched");
    assert.notEqual(after.refresh_token, before.refresh_token, 'the refresh token was rotated');
    page.problems = page.problems.filter((p) => !/401/.test(p));
    assert.deepEqual(page.problems, []);
    await finish(page);
  });

  test('missing consent for one API asks for it, keeps the route, and signs nobody out', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(users.admin);
    await app.open('/views/ws-alpha');
    await status(app).filter({ hasText: '200' }).waitFor();

    // admin@tre.test has not consented to workspace beta.
    await app.open('/views/ws-beta');
    const needed = app.testId('api-consent-needed');
    await needed.waitFor();
    assert.match(await needed.innerText(), /TRE workspace beta needs your consent/);
    assert.match(await needed.innerText(), /AADSTS65001/);
    assert.ok(await app.storedSession(), 'still signed in');
    // The profile says so too, without asking the provider again.
    const grants = recordTokenRequests(page);
    await app.openProfile();
    await page.locator('[data-testid=profile-resource][data-resource=beta]').getByTestId('profile-resource-consent').waitFor();
    await page.keyboard.press('Escape');
    assert.equal(grants.filter((g) => g.scope.includes(TRE_WORKSPACE_BETA)).length, 0, 'beta is not asked again');
    // The other APIs still answer.
    await app.open('/views/workspaces');
    await status(app).filter({ hasText: '200' }).waitFor();

    await app.open('/views/ws-beta');
    const authorize = page.waitForRequest((r) => r.url().includes('/oauth2/v2.0/authorize'));
    await app.testId('api-consent').click();
    const scope = new URL((await authorize).url()).searchParams.get('scope');
    assert.match(scope, new RegExp(`api://${TRE_WORKSPACE_BETA}/user_impersonation`));
    assert.equal(new URL((await authorize).url()).searchParams.get('login_hint'), users.admin.username);
    // The provider may still have a session (no form then) or ask for the password again.
    await page.waitForURL((url) => url.pathname.includes('/login/') || url.pathname === '/views/ws-beta');
    if (new URL(page.url()).pathname.includes('/login/')) {
      await app.idp.signIn(users.admin.username, users.admin.password);
    }
    await page.waitForURL(/\/views\/ws-beta$/);
    await status(app).filter({ hasText: '200' }).waitFor();

    const stored = await app.storedSession();
    assert.equal(decodeJwt(stored.resources.beta.access_token).aud, TRE_WORKSPACE_BETA);
    assert.deepEqual(Object.keys(stored.resources), ['beta'], 'a new session: other tokens come on use');
    assert.equal(decodeJwt(stored.access_token).aud, TRE.apiAppId, "the main API's token is the main API's");
    // And the first workspace again, with a token redeemed from the new refresh token.
    await app.open('/views/ws-alpha');
    await status(app).filter({ hasText: '200' }).waitFor();
    assert.deepEqual(page.problems, []);
    await finish(page);
  });

  test('a workspace role the person lacks disables its view, naming the API', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(users.user);
    // user@tre.test holds no role on workspace beta: once its token is in, the gate knows.
    await app.openProfile();
    const beta = page.locator('[data-testid=profile-resource][data-resource=beta]');
    await beta.filter({ hasText: 'No roles assigned' }).waitFor();
    await page.keyboard.press('Escape');
    const entry = app.testId('view-ws-beta');
    await page.locator('[data-testid=view-ws-beta][aria-disabled=true]').waitFor();
    assert.equal(await entry.getAttribute('data-reason'),
      'requires one of TRE workspace beta: WorkspaceOwner, TRE workspace beta: WorkspaceResearcher');
    await app.open('/views/ws-beta');
    await app.testId('not-permitted').waitFor();
    assert.match(await app.testId('not-permitted').innerText(), /TRE workspace beta: WorkspaceOwner/);
    await finish(page);
  });

  test('the profile shows the Graph photo and job title, or initials without Graph consent', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(users.admin);
    await app.openProfile();
    const photo = app.testId('profile-photo');
    await photo.waitFor();
    assert.match(await photo.getAttribute('src'), /^blob:/);
    assert.ok(await photo.evaluate((img) => img.complete && img.naturalWidth > 0), 'the image loads under the CSP');
    assert.equal(await app.testId('profile-job-title').innerText(), 'TRE Administrator');
    await finish(page);

    const other = await ctx.newApp();
    await other.app.signIn(users.norole); // has not consented to Graph
    await other.app.openProfile();
    await other.app.testId('profile-initials').waitFor();
    assert.equal(await other.app.testId('profile-initials').innerText(), 'NN');
    // Given time to try Graph and fail, still no photo and no error.
    await other.page.waitForTimeout(1_000);
    assert.equal(await other.app.testId('profile-photo').count(), 0);
    assert.equal(await other.app.testId('auth-error').count(), 0);
    await finish(other.page);
  });

  test('a Graph photo that is no raster image (an SVG with a script) is not shown: initials instead', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(users.vector);
    await app.openProfile();
    await app.testId('profile-job-title').waitFor(); // Graph answered
    await page.waitForTimeout(1_000); // and the photo's answer has had time to come
    assert.equal(await app.testId('profile-photo').count(), 0);
    assert.equal(await app.testId('profile-initials').innerText(), 'VV');
    assert.equal(await page.evaluate(() => window.__photoScriptRan ?? null), null);
    await finish(page);
  });

  test('signing out drops every API\'s token', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(users.admin);
    await app.open('/views/ws-alpha');
    await status(app).filter({ hasText: '200' }).waitFor();
    assert.ok((await app.storedSession()).resources.alpha);
    await app.openProfile();
    await app.testId('sign-out').click();
    await app.testId('sign-in').waitFor();
    const { session } = await app.storage();
    assert.equal(session['gatehouse.session'], undefined);
    assert.doesNotMatch(JSON.stringify(session), /ey[\w-]{10,}\./, 'no token of any API is left');
    await finish(page);
  });
});
