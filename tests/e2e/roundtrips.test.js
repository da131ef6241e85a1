// End to end: what a sign-in costs in requests. The provider's discovery document and key set
// are fetched while the person is at the sign-in page and kept for the tab, so the callback page
// asks the provider for the token and nothing else; stored copies that are stale, fail their
// checks or lack the token's key are not trusted, nor is a kept configuration that cannot finish
// the sign-in.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { registrations } from '../../dev/idp/registrations.js';
import { finish } from './browser.js';
import { useStack } from './fixture.js';

const reader = registrations[0].users[0];
const DISCOVERY = 'gatehouse.provider.discovery';
const JWKS = 'gatehouse.provider.jwks';
const CONFIG = 'gatehouse.config';

/** Every request of the page from now on, with the document (page load) it belongs to. */
function recordRequests(page) {
  const requests = [];
  let load = 0;
  page.on('request', (r) => {
    if (r.isNavigationRequest() && r.frame() === page.mainFrame()) load += 1;
    requests.push({ load, method: r.method(), url: r.url(), navigation: r.isNavigationRequest() });
  });
  return requests;
}

/** The page's stored copy of a provider document, once the prefetch has kept it. */
async function storedCopy(page, key) {
  await page.waitForFunction((k) => sessionStorage.getItem(k) !== null, key, { timeout: 10_000 });
  return JSON.parse(await page.evaluate((k) => sessionStorage.getItem(k), key));
}

async function replaceCopy(page, key, copy) {
  await page.evaluate(([k, v]) => sessionStorage.setItem(k, v), [key, JSON.stringify(copy)]);
}

describe('round trips', () => {
  const ctx = useStack();
  const idpOrigin = () => new URL(ctx.stack.idp.issuer).origin;
  const path = (url) => new URL(url).pathname;

  test('a cold sign-in: the callback page asks the provider for the token and nothing else', async () => {
    const { page, app } = await ctx.newApp();
    const requests = recordRequests(page);
    await app.signIn(reader);
    assert.match(await app.userName(), new RegExp(reader.name));

    const loads = new Map();
    for (const r of requests) loads.set(r.load, [...(loads.get(r.load) ?? []), r]);
    const callbackLoad = requests.find((r) => r.navigation && path(r.url) === '/oauth-callback').load;
    const callback = loads.get(callbackLoad);
    const fromIdp = callback.filter((r) => r.url.startsWith(idpOrigin()));
    assert.deepEqual(fromIdp.map((r) => `${r.method} ${path(r.url).replace(/^\/[^/]+/, '')}`), ['POST /oauth2/v2.0/token']);
    const fromApp = callback.filter((r) => r.url.startsWith(ctx.stack.appUrl)).map((r) => path(r.url));
    assert.ok(!fromApp.includes('/config.json'), `the callback uses the configuration the sign-in started with: ${fromApp}`);
    assert.equal(fromApp.length, 3, `the document, the js and the wasm: ${fromApp}`);

    const landing = loads.get(1).map((r) => path(r.url));
    assert.equal(landing.filter((p) => p.endsWith('/openid-configuration')).length, 1);
    assert.equal(landing.filter((p) => p.endsWith('/keys')).length, 1, 'the key set is fetched before leaving');
    for (const [load, list] of loads) {
      const urls = list.map((r) => `${r.method} ${r.url}`);
      assert.deepEqual(urls, [...new Set(urls)], `nothing is requested twice in page load ${load}`);
    }
    assert.equal(requests.filter((r) => /favicon/.test(r.url)).length, 0, 'the icon is inline');
    assert.ok(requests.length <= 14, `a cold sign-in makes at most 14 requests, made ${requests.length}`);
    assert.deepEqual(page.problems, []);
    await finish(page);
  });

  test('a key set without the token\'s key is fetched again (key rollover)', async () => {
    const { page, app } = await ctx.newApp();
    await app.open('/');
    const copy = await storedCopy(page, JWKS);
    const rolled = JSON.parse(copy.body);
    for (const key of rolled.keys) key.kid = `retired-${key.kid}`;
    await replaceCopy(page, JWKS, { ...copy, body: JSON.stringify(rolled) });

    const requests = recordRequests(page);
    await app.testId('sign-in').click();
    await app.idp.signIn(reader.username, reader.password);
    await app.testId('user-menu').waitFor();
    assert.equal(requests.filter((r) => path(r.url).endsWith('/keys')).length, 1, 'one fetch, on the callback page');
    const kept = await storedCopy(page, JWKS);
    assert.doesNotMatch(kept.body, /retired-/, 'the fresh key set replaced the stale copy');
    await finish(page);
  });

  test('stored copies that are stale or fail their checks are fetched again, not trusted', async () => {
    const { page, app } = await ctx.newApp();
    await app.open('/');
    const discovery = await storedCopy(page, DISCOVERY);
    const jwks = await storedCopy(page, JWKS);
    // A discovery document whose issuer is not the configured authority's, and a key set kept
    // two hours ago.
    const forged = { ...JSON.parse(discovery.body), issuer: 'https://evil.example/v2.0' };
    await replaceCopy(page, DISCOVERY, { ...discovery, body: JSON.stringify(forged) });
    await replaceCopy(page, JWKS, { ...jwks, fetched_at_ms: jwks.fetched_at_ms - 2 * 60 * 60 * 1000 });

    const requests = recordRequests(page);
    await app.testId('sign-in').click();
    await app.idp.signIn(reader.username, reader.password);
    await app.testId('user-menu').waitFor();
    const onCallback = requests.filter((r) => r.load === Math.max(...requests.map((x) => x.load)));
    assert.equal(onCallback.filter((r) => path(r.url).endsWith('/openid-configuration')).length, 1);
    assert.equal(onCallback.filter((r) => path(r.url).endsWith('/keys')).length, 1);
    assert.equal(JSON.parse((await storedCopy(page, DISCOVERY)).body).issuer, ctx.stack.idp.issuer);
    assert.ok((await storedCopy(page, JWKS)).fetched_at_ms > jwks.fetched_at_ms);
    await finish(page);
  });

  test('a kept configuration that cannot finish the sign-in gives way to the file, fetched once', async () => {
    const { page, app } = await ctx.newApp();
    await app.open('/');
    // The copy names another redirect path: it cannot finish a sign-in that returns here.
    const config = await storedCopy(page, CONFIG);
    const elsewhere = { ...JSON.parse(config.body), OAUTH_REDIRECT_PATH: '/elsewhere' };
    await replaceCopy(page, CONFIG, { ...config, body: JSON.stringify(elsewhere) });

    const requests = recordRequests(page);
    await app.testId('sign-in').click();
    await app.idp.signIn(reader.username, reader.password);
    await app.testId('user-menu').waitFor();
    const onCallback = requests.filter((r) => r.load === Math.max(...requests.map((x) => x.load)));
    assert.equal(onCallback.filter((r) => path(r.url) === '/config.json').length, 1);
    assert.notEqual(JSON.parse((await storedCopy(page, CONFIG)).body).OAUTH_REDIRECT_PATH, '/elsewhere', 'the file kept in its place');
    await finish(page);
  });
});
