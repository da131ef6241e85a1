// End to end: what each StudyBuilder role combination sees and can do. Views are enabled or shown
// disabled with the reason; gated routes show "not permitted"; calls reach the API with a bearer
// token; the API's 403 is explained; a 401 is refreshed and retried once; network failures can
// be retried.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { registrations } from '../../dev/idp/registrations.js';
import { finish } from './browser.js';
import { grantsAny, useStack } from './fixture.js';

const sb = registrations[0];
const DEFAULT_VIEWS = JSON.parse(readFileSync(new URL('../../public/config.json', import.meta.url), 'utf8')).VIEWS;
const VIEW_ROLES = {
  studies: 'Study.Read',
  'create-study': 'Study.Write',
  'library-items': 'Library.Read',
  'create-library-item': 'Library.Write',
  me: null,
};

describe('role-aware UI', () => {
  const ctx = useStack({
      config: {
        VIEWS: [
          ...DEFAULT_VIEWS,
          // A view the UI does not gate, so the API's own 403 can be seen.
          { id: 'ungated-create', title: 'Create (ungated)', method: 'POST', path: '/studies', roles: [],
            body: { study_number: '7', acronym: 'X', title: 'Y' } },
        ],
      },
    });

  for (const user of sb.users) {
    test(`${user.name} (${user.roles.join(', ') || 'no roles'}) sees the right roles and views`, async () => {
      const { page, app } = await ctx.newApp();
      await app.signIn(user);
      await app.openProfile();
      assert.deepEqual((await app.roles()).sort(), [...user.roles].sort());
      await page.keyboard.press('Escape');
      await app.testId('profile-panel').waitFor({ state: 'detached' });

      for (const [id, role] of Object.entries(VIEW_ROLES)) {
        const entry = app.testId(`view-${id}`);
        if (grantsAny(user.roles, role ? [role] : [])) {
          assert.equal(await entry.evaluate((e) => e.tagName), 'A', `${id} is a link`);
        } else {
          assert.equal(await entry.getAttribute('aria-disabled'), 'true', `${id} is disabled`);
          assert.equal(await entry.getAttribute('data-reason'), `requires ${role}`);
          // The route itself is gated too.
          await app.open(`/views/${id}`);
          await app.testId('not-permitted').waitFor();
          assert.match(await app.testId('not-permitted').innerText(), new RegExp(`requires ${role.replace('.', '\\.')}`));
        }
      }
      await finish(page);
    });
  }

  test('views call the API with the bearer token and show status and JSON', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(sb.users.find((u) => u.username.startsWith('super')));
    const apiRequest = page.waitForRequest((r) => r.url() === `${ctx.stack.apiUrl}/studies` && r.method() === 'GET');
    await app.testId('view-studies').click();
    const sent = await apiRequest;
    const { access_token: token } = await app.storedSession();
    assert.equal((await sent.allHeaders()).authorization, `Bearer ${token}`);
    await app.testId('api-status').waitFor();
    assert.equal(await app.testId('api-status').innerText(), '200');
    assert.match(await app.testId('api-result').innerText(), /study_number/);

    // Create a study: POST with the (editable) JSON body.
    await app.testId('view-create-study').click();
    // A body that is not JSON is refused with its position, and nothing is sent.
    const posts = [];
    page.on('request', (r) => { if (r.method() === 'POST' && r.url().startsWith(ctx.stack.apiUrl)) posts.push(r.url()); });
    await app.testId('api-body').fill('{"study_number": "1",}');
    await app.testId('api-run').click();
    await app.testId('api-body-error').waitFor();
    assert.match(await app.testId('api-body-error').innerText(), /not valid JSON: trailing comma at line 1 column 22/);
    assert.deepEqual(posts, [], 'an invalid body is not sent');
    await app.testId('api-body').fill(JSON.stringify({ study_number: '4242', acronym: 'E2E', title: 'Made by a test' }));
    await app.testId('api-run').click();
    await page.getByTestId('api-status').filter({ hasText: '201' }).waitFor();
    assert.match(await app.testId('api-result').innerText(), /sam|super@studybuilder\.test/i);
    await finish(page);
  });

  test("the API's 403 is shown as not permitted with the role it wanted", async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(sb.users.find((u) => u.username.startsWith('reader')));
    await app.testId('view-ungated-create').click();
    await app.testId('api-run').click();
    await app.testId('api-forbidden').waitFor();
    assert.equal(await app.testId('api-status').innerText(), '403');
    assert.match(await app.testId('api-forbidden').innerText(), /requires Study\.Write/);
    await finish(page);
  });

  /** Signs a reader in, then makes the API stop accepting the access token (as after a key
   *  rollover or revocation) while the refresh token stays good. */
  async function signInWithRejectedAccessToken() {
    const { page, app } = await ctx.newApp();
    await app.signIn(sb.users.find((u) => u.username.startsWith('reader')));
    const { access_token: token } = await app.storedSession();
    await app.patchStoredSession({ access_token: token.replace(/\.[^.]+$/, '.AAAA') });
    await app.testId('user-menu').waitFor();
    return { page, app };
  }

  test('a 401 from the API triggers one refresh and one retry', async () => {
    const { page, app } = await signInWithRejectedAccessToken();
    const refreshes = [];
    const apiCalls = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/token') && r.postData()?.includes('grant_type=refresh_token')) refreshes.push(r);
      if (r.url() === `${ctx.stack.apiUrl}/studies`) apiCalls.push(r.method());
    });
    await app.testId('view-studies').click();
    await page.getByTestId('api-status').filter({ hasText: '200' }).waitFor();
    assert.equal(refreshes.length, 1, 'one refresh');
    assert.deepEqual(apiCalls.filter((m) => m === 'GET').length, 2, `the call was retried once: ${apiCalls}`);
    await finish(page);
  });

  test('concurrent 401s share one refresh, and each call is retried once', async () => {
    const { page, app } = await signInWithRejectedAccessToken();
    // Hold the refresh at the token endpoint, so the second call's 401 arrives while it is in flight.
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    const refreshes = [];
    await page.route('**/token', async (route) => {
      if (route.request().postData()?.includes('grant_type=refresh_token')) {
        refreshes.push(route.request().url());
        await held;
      }
      await route.continue();
    });
    const calls = [];
    page.on('response', (r) => {
      const path = new URL(r.url()).pathname;
      if (r.url().startsWith(ctx.stack.apiUrl) && r.request().method() === 'GET') calls.push(`${path} ${r.status()}`);
    });
    const unauthorized = (path) => page.waitForResponse((r) => r.url() === `${ctx.stack.apiUrl}${path}` && r.status() === 401);
    const first401 = unauthorized('/studies');
    await app.testId('view-studies').click();
    await first401;
    const second401 = unauthorized('/me');
    await app.testId('view-me').click();
    await second401;
    assert.equal(refreshes.length, 1, 'the second 401 joined the refresh in flight');
    const ok = (path) => page.waitForResponse((r) => r.url() === `${ctx.stack.apiUrl}${path}` && r.status() === 200);
    const retried = Promise.all([ok('/studies'), ok('/me')]);
    release();
    await retried;
    await page.getByTestId('api-status').filter({ hasText: '200' }).waitFor();
    assert.equal(refreshes.length, 1, 'one refresh for both calls');
    assert.deepEqual(calls.sort(), ['/me 200', '/me 401', '/studies 200', '/studies 401'], 'each call was retried once');
    await finish(page);
  });

  test('a network failure offers a retry that then succeeds', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(sb.users.find((u) => u.username.startsWith('librarian')));
    await page.route(`${ctx.stack.apiUrl}/**`, (route) => route.abort('connectionrefused'));
    await app.testId('view-library-items').click();
    await app.testId('api-error').waitFor();
    assert.match(await app.testId('api-error').innerText(), /could not be reached/);
    await page.unroute(`${ctx.stack.apiUrl}/**`);
    await app.testId('api-retry').click();
    await page.getByTestId('api-status').filter({ hasText: '200' }).waitFor();
    // Expected console noise from the aborted request only.
    assert.ok(page.problems.every((p) => /ERR_CONNECTION_REFUSED|Failed to load/.test(p)), page.problems.join('\n'));
    await finish(page);
  });

  test('a 5xx from the API is explained and can be retried', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(sb.users.find((u) => u.username.startsWith('reader')));
    await page.route(`${ctx.stack.apiUrl}/studies`, (route) => route.fulfill({ status: 503, body: 'maintenance' }));
    await app.testId('view-studies').click();
    await app.testId('api-error').waitFor();
    assert.equal(await app.testId('api-status').innerText(), '503');
    assert.match(await app.testId('api-error').innerText(), /API failed \(HTTP 503\)/);
    await page.unroute(`${ctx.stack.apiUrl}/studies`);
    await app.testId('api-retry').click();
    await page.getByTestId('api-status').filter({ hasText: '200' }).waitFor();
    await finish(page);
  });

  test('an API that still answers 401 after a refresh ends the session', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(sb.users.find((u) => u.username.startsWith('reader')), '/?from=test');
    await page.route(`${ctx.stack.apiUrl}/studies`, (route) => route.fulfill({
      status: 401,
      headers: { 'www-authenticate': 'Bearer error="invalid_token"', 'access-control-allow-origin': ctx.stack.appUrl },
      body: '{"error":"invalid_token"}',
    }));
    await app.testId('view-studies').click();
    const error = app.testId('auth-error');
    await error.waitFor();
    assert.match(await error.innerText(), /session has ended/i);
    assert.match(await error.innerText(), /no longer accepts/);
    assert.equal(await app.storedSession(), null);
    await finish(page);
  });
});
