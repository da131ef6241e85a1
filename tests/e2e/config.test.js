// End to end: configuration at start-up. A broken config.json names the bad key instead of
// showing a blank page; StudyBuilder's own config.json is accepted as it is; OAUTH_ENABLED=false
// runs without sign-in and says so on screen; OAUTH_RBAC_ENABLED=false opens every view.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { registrations } from '../../dev/idp/registrations.js';
import { finish, newPage } from './browser.js';
import { useStack } from './fixture.js';

/** StudyBuilder's frontend config.json (studybuilder/public/config.json, OSB v0.20), as it ships. */
const STUDYBUILDER_CONFIG = readFileSync(join(import.meta.dirname, '../fixtures/studybuilder-config.json'), 'utf8');

describe('configuration', () => {
  const ctx = useStack();

  const cases = [
    ['a missing client id', { OAUTH_METADATA_URL: 'https://idp.example/x', OAUTH_API_APP_ID: 'a' }, 'OAUTH_UI_APP_ID'],
    ['an invalid response mode', { OAUTH_METADATA_URL: 'https://idp.example/x', OAUTH_UI_APP_ID: 'u', OAUTH_API_APP_ID: 'a', OAUTH_RESPONSE_MODE: 'form_post' }, 'OAUTH_RESPONSE_MODE'],
    ['a broken view list', { OAUTH_ENABLED: false, VIEWS: [{ id: 'x' }] }, 'VIEWS'],
    ['a misspelt key', { OAUTH_ENABLED: false, OAUTH_SCOPE: 'API.call' }, 'OAUTH_SCOPE'],
    ['a list where text belongs', { OAUTH_ENABLED: false, API_NAME: ['StudyBuilder'] }, 'API_NAME'],
  ];
  for (const [name, body, key] of cases) {
    test(`${name} shows a page naming ${key}`, async () => {
      const page = await newPage(ctx.browser, { appOrigin: ctx.stack.appUrl });
      await page.route('**/config.json', (route) => route.fulfill({ json: body }));
      await page.goto(`${ctx.stack.appUrl}/`);
      const error = page.getByTestId('config-error');
      await error.waitFor();
      assert.equal(await page.getByTestId('config-error-key').innerText(), key);
      assert.match(await error.innerText(), new RegExp(key));
      await finish(page);
    });
  }

  test("StudyBuilder's own config.json starts the app as it is (its OAUTH_ENABLED is false)", async () => {
    const page = await newPage(ctx.browser, { appOrigin: ctx.stack.appUrl });
    await page.route('**/config.json', (route) => route.fulfill({ body: STUDYBUILDER_CONFIG, contentType: 'application/json' }));
    await page.goto(`${ctx.stack.appUrl}/`);
    await page.getByTestId('auth-disabled').waitFor();
    assert.equal(await page.getByTestId('config-error').count(), 0);
    await finish(page);
  });

  test('with OAUTH_RBAC_ENABLED=false every view is open to a reader, the API still decides, and the profile says role checks are off', async () => {
    const { page, app } = await ctx.newApp();
    await page.route('**/config.json', async (route) => {
      const config = await (await route.fetch()).json();
      await route.fulfill({ json: { ...config, OAUTH_RBAC_ENABLED: 'false' } });
    });
    const reader = registrations[0].users.find((u) => u.username.startsWith('reader'));
    await app.signIn(reader);
    // create-study requires Study.Write, which a reader lacks.
    assert.equal(await app.testId('view-create-study').evaluate((e) => e.tagName), 'A');
    await app.testId('view-create-study').click();
    await app.testId('api-run').click();
    await app.testId('api-forbidden').waitFor();
    assert.equal(await app.testId('not-permitted').count(), 1, "only the API's own 403");
    await app.openProfile();
    assert.ok(await app.testId('profile-role-checks-off').isVisible());
    assert.deepEqual((await app.roles()).sort(), [...reader.roles].sort());
    await finish(page);
  });

  test('a configuration that cannot be fetched offers a way to try again', async () => {
    const page = await newPage(ctx.browser, { appOrigin: ctx.stack.appUrl });
    let fail = true;
    await page.route('**/config.json', (route) => (fail ? route.fulfill({ status: 503, body: 'down' }) : route.fallback()));
    await page.goto(`${ctx.stack.appUrl}/`);
    await page.getByTestId('config-error').waitFor();
    assert.match(await page.getByTestId('config-error').innerText(), /could not be loaded: HTTP status 503/);
    fail = false;
    await page.getByTestId('config-retry').click();
    await page.getByTestId('sign-in').waitFor();
    await finish(page);
  });

  test('a start-up indicator shows until the configuration has loaded, then makes way', async () => {
    const page = await newPage(ctx.browser, { appOrigin: ctx.stack.appUrl });
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    await page.route('**/config.json', async (route) => { await held; await route.continue(); });
    await page.goto(`${ctx.stack.appUrl}/`);
    const starting = page.getByRole('status').filter({ hasText: 'Starting Gatehouse' });
    await starting.waitFor();
    release();
    await page.getByTestId('sign-in').waitFor();
    assert.equal(await starting.count(), 0, 'the indicator is gone once the app is up');
    await finish(page);
  });

  test('a config.json that is not JSON is reported, not a blank page', async () => {
    const page = await newPage(ctx.browser, { appOrigin: ctx.stack.appUrl });
    await page.route('**/config.json', (route) => route.fulfill({ body: '<html>oops</html>', contentType: 'text/html' }));
    await page.goto(`${ctx.stack.appUrl}/`);
    await page.getByTestId('config-error').waitFor();
    assert.match(await page.getByTestId('config-error').innerText(), /not a JSON object/);
    await finish(page);
  });
});

describe('sign-in disabled (OAUTH_ENABLED=false)', () => {
  const ctx = useStack({ config: { OAUTH_ENABLED: 'false' } });

  test('runs without sign-in, clearly marked, and calls the API without a token', async () => {
    const { page, app } = await ctx.newApp();
    await app.open('/');
    await app.testId('auth-disabled').waitFor();
    assert.equal(await app.testId('sign-in').count(), 0);
    assert.match(await page.locator('main').innerText(), /Sign-in is disabled/);
    // Every view is offered: the API decides.
    assert.equal(await app.testId('view-create-study').evaluate((e) => e.tagName), 'A');
    const call = page.waitForRequest((r) => r.url() === `${ctx.stack.apiUrl}/studies`);
    await app.testId('view-studies').click();
    assert.equal((await (await call).allHeaders()).authorization, undefined, 'no bearer header');
    // This API still requires tokens, so it answers 401, shown as such.
    await page.getByTestId('api-status').filter({ hasText: '401' }).waitFor();
    const { session, local } = await app.storage();
    assert.deepEqual(session, {});
    assert.deepEqual(local, {});
    page.problems = page.problems.filter((p) => !/401/.test(p));
    assert.deepEqual(page.problems, []);
    await finish(page);
  });
});
