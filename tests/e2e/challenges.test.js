// End to end: APIs that ask for more than a valid token, through the real dev IdP (which grants
// authentication context c1 silently, c2 and MFA only at its login page, and honours max_age)
// and the test API's /secure routes. A claims challenge Entra can meet silently is met without
// a page change; one that needs the person is offered as a sign-in that returns to the view with
// the typed body intact; RFC 9470 step-up (acr_values, max_age) likewise; and the same challenge
// right after it was answered stops with a message instead of a loop.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { registrations } from '../../dev/idp/registrations.js';
import { finish } from './browser.js';
import { useStack } from './fixture.js';

const reader = registrations[0].users.find((u) => u.username.startsWith('reader'));

const VIEWS = [
  { id: 'context', title: 'Context c1', method: 'GET', path: '/secure/context', roles: [] },
  { id: 'context-mfa', title: 'Context c2', method: 'POST', path: '/secure/context-mfa', roles: [], body: { note: 'default' } },
  { id: 'mfa', title: 'MFA', method: 'GET', path: '/secure/mfa', roles: [] },
  { id: 'recent', title: 'Recent sign-in', method: 'GET', path: '/secure/recent/5', roles: [] },
  { id: 'broken', title: 'Broken', method: 'GET', path: '/secure/broken', roles: [] },
];

const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

describe('APIs that ask for more', () => {
  const ctx = useStack({ config: { VIEWS, OAUTH_CLIENT_CAPABILITIES: 'cp1' } });

  /** Records the token requests and the trips to the provider's authorization endpoint. */
  function watch(page) {
    const seen = { grants: [], authorizations: [] };
    page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith(ctx.stack.idp.issuer.replace(/\/v2\.0$/, ''))) return;
      if (r.method() === 'POST' && url.endsWith('/token')) seen.grants.push(new URLSearchParams(r.postData()));
      if (r.isNavigationRequest() && new URL(url).pathname.endsWith('/authorize')) {
        seen.authorizations.push(new URL(url).searchParams);
      }
    });
    return seen;
  }

  test('a claims challenge the provider meets silently is met without leaving the page', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(reader);
    const seen = watch(page);
    await app.open('/views/context');
    await page.getByTestId('api-status').filter({ hasText: '200' }).waitFor();
    assert.equal(seen.authorizations.length, 0, 'no trip to the provider');
    const withClaims = seen.grants.filter((g) => g.get('claims'));
    assert.equal(withClaims.length, 1, 'one grant carried the claims');
    assert.deepEqual(JSON.parse(withClaims[0].get('claims')), {
      access_token: { acrs: { essential: true, value: 'c1' }, xms_cc: { values: ['cp1'] } },
    });
    const token = claimsOf((await app.storedSession()).access_token);
    assert.deepEqual(token.acrs, ['c1']);
    assert.deepEqual(token.xms_cc, ['cp1']);
    assert.match(await app.testId('api-result').innerText(), /c1/);
    assert.deepEqual(page.problems, []);
    await finish(page);
  });

  test('a claims challenge that needs the person comes back to the view with the typed body', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(reader);
    const seen = watch(page);
    await app.open('/views/context-mfa');
    const typed = '{"typed": "by hand, before the sign-in"}';
    await app.testId('api-body').fill(typed);
    await app.testId('api-run').click();
    const offer = app.testId('api-step-up-needed');
    await offer.waitFor();
    assert.match(await offer.innerText(), /asks for authentication context c2/);
    assert.equal(await app.storedSession() !== null, true, 'still signed in');

    await app.testId('api-step-up').click();
    await app.idp.signIn(reader.username, reader.password);
    await app.testId('api-body').waitFor();
    assert.equal(new URL(page.url()).pathname, '/views/context-mfa');
    assert.equal(await app.testId('api-body').inputValue(), typed, 'what was typed survived');
    const asked = JSON.parse(seen.authorizations.at(-1).get('claims'));
    assert.deepEqual(asked.access_token.acrs, { essential: true, value: 'c2' });
    assert.deepEqual(asked.access_token.xms_cc, { values: ['cp1'] });

    await app.testId('api-run').click();
    await page.getByTestId('api-status').filter({ hasText: '200' }).waitFor();
    assert.match(await app.testId('api-result').innerText(), /by hand, before the sign-in/);
    assert.deepEqual(claimsOf((await app.storedSession()).access_token).acrs, ['c2']);
    assert.deepEqual(page.problems, []);
    await finish(page);
  });

  test('a stronger sign-in (acr_values) is offered and given', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(reader);
    const seen = watch(page);
    await app.open('/views/mfa');
    await app.testId('api-step-up-needed').waitFor();
    assert.match(await app.testId('api-step-up-needed').innerText(), /a stronger sign-in \(urn:gatehouse:mfa\)/);
    await app.testId('api-step-up').click();
    await app.idp.signIn(reader.username, reader.password);
    await page.getByTestId('api-status').filter({ hasText: '200' }).waitFor();
    assert.equal(seen.authorizations.at(-1).get('acr_values'), 'urn:gatehouse:mfa');
    assert.equal(seen.authorizations.at(-1).get('login_hint'), reader.username);
    assert.equal(claimsOf((await app.storedSession()).access_token).acr, 'urn:gatehouse:mfa');
    await finish(page);
  });

  test('a recent sign-in (max_age) is offered and given', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(reader);
    const signedInAt = claimsOf((await app.storedSession()).access_token).auth_time;
    // The route asks for a sign-in at most 5 s old.
    await new Promise((r) => setTimeout(r, Math.max(0, (signedInAt + 6) * 1000 - Date.now())));
    const seen = watch(page);
    await app.open('/views/recent');
    await app.testId('api-step-up-needed').waitFor();
    assert.match(await app.testId('api-step-up-needed').innerText(), /a sign-in within the last 5 s/);
    await app.testId('api-step-up').click();
    await app.idp.signIn(reader.username, reader.password);
    await page.getByTestId('api-status').filter({ hasText: '200' }).waitFor();
    assert.equal(seen.authorizations.at(-1).get('max_age'), '5');
    assert.ok(claimsOf((await app.storedSession()).access_token).auth_time > signedInAt, 'a new authentication');
    await finish(page);
  });

  test('the same challenge right after it was answered stops with a message, not a loop', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(reader);
    const seen = watch(page);
    await app.open('/views/broken');
    const stopped = app.testId('api-step-up-stopped');
    await stopped.waitFor();
    assert.match(await stopped.innerText(), /asked again for authentication context c1 right after getting it/);
    // Give a loop the time it would need to show itself.
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(seen.grants.filter((g) => g.get('claims')).length, 1, 'one grant for the claims, no more');
    assert.equal(seen.authorizations.length, 0, 'no redirect');
    assert.equal(new URL(page.url()).pathname, '/views/broken');
    assert.deepEqual(page.problems, []);
    await finish(page);
  });
});
