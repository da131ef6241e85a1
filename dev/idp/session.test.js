// Tests of the session's end as Entra ends it for single-page apps: refresh_token_expires_in, the
// fixed refresh token lifetime that rotation does not extend, and AADSTS700084 after it; and of a
// registration whose sessions have no refresh token at all.
// Run: node --test dev/idp/
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { registrations } from './registrations.js';
import { startIdp } from './server.js';
import {
  APP_ORIGIN, REDIRECT_URI, SB, SCOPE, refresh, signIn, signInTo, token, verifyJwt,
} from './testkit.js';

const reader = SB.users.find((u) => u.username === 'reader@studybuilder.test');
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

describe('refresh_token_expires_in', () => {
  let idp;
  before(async () => {
    idp = await startIdp({ port: 0, quiet: true, appOrigins: [APP_ORIGIN] });
  });
  after(async () => { await idp?.close(); });

  test('every response with a refresh token says how long it has left, counted from the sign-in', async () => {
    const { body } = await signInTo(idp, SB, reader, SCOPE);
    assert.ok(body.refresh_token);
    assert.ok(Number.isInteger(body.refresh_token_expires_in), JSON.stringify(body));
    assert.ok(body.refresh_token_expires_in <= 86400 && body.refresh_token_expires_in >= 86398,
      `${body.refresh_token_expires_in}`);

    // (That it decreases is shown with a short lifetime below, without waiting here.)
    const r1 = await refresh(idp, SB, body.refresh_token, undefined, { origin: APP_ORIGIN });
    assert.equal(r1.res.status, 200, JSON.stringify(r1.body));
    assert.ok(r1.body.refresh_token_expires_in <= body.refresh_token_expires_in,
      `${r1.body.refresh_token_expires_in} <= ${body.refresh_token_expires_in}`);
    const r2 = await refresh(idp, SB, r1.body.refresh_token);
    assert.equal(r2.res.status, 200, JSON.stringify(r2.body));
    assert.ok(r2.body.refresh_token_expires_in <= r1.body.refresh_token_expires_in);
  });
});

describe('a short refresh token lifetime', () => {
  const LIFETIME = 3;
  let idp;
  before(async () => {
    idp = await startIdp({
      port: 0, quiet: true, appOrigins: [APP_ORIGIN], ttl: { refreshToken: LIFETIME },
    });
  });
  after(async () => { await idp?.close(); });

  test('ends the session with AADSTS700084 at the time fixed by the sign-in, whatever the rotations', async () => {
    const signedInAt = Date.now();
    const { body } = await signInTo(idp, SB, reader, SCOPE);
    // The sign-in's refresh token was issued at this second or earlier, so it expires by then + LIFETIME.
    const expiresBy = (Math.floor(Date.now() / 1000) + LIFETIME) * 1000;
    assert.ok(body.refresh_token_expires_in <= LIFETIME && body.refresh_token_expires_in >= LIFETIME - 1,
      `${body.refresh_token_expires_in}`);

    // A second later a refresh works and rotates; the new refresh token has only what is left
    // (at most LIFETIME - 1: a rotation that extended the lifetime would give LIFETIME again).
    await sleep(1100);
    const r1 = await refresh(idp, SB, body.refresh_token);
    assert.equal(r1.res.status, 200, JSON.stringify(r1.body));
    assert.ok(r1.body.refresh_token_expires_in < body.refresh_token_expires_in,
      `decreasing: ${r1.body.refresh_token_expires_in} < ${body.refresh_token_expires_in}`);
    assert.ok(r1.body.refresh_token_expires_in <= LIFETIME - 1, `${r1.body.refresh_token_expires_in}`);

    // Past the sign-in's lifetime (though within LIFETIME of the rotation) it is refused.
    await sleep(expiresBy + 50 - Date.now());
    const expired = await refresh(idp, SB, r1.body.refresh_token, undefined, { origin: APP_ORIGIN });
    assert.equal(expired.res.status, 400, JSON.stringify(expired.body));
    assert.equal(expired.res.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.equal(expired.res.headers.get('cache-control'), 'no-store');
    const b = expired.body;
    assert.equal(b.error, 'invalid_grant');
    assert.deepEqual(b.error_codes, [700084]);
    assert.equal(b.suberror, 'bad_token');
    assert.equal(b.error_uri, 'https://login.microsoftonline.com/error?code=700084');
    assert.match(b.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    assert.match(b.trace_id, /^[0-9a-f-]{36}$/);
    assert.match(b.correlation_id, /^[0-9a-f-]{36}$/);
    const m = /^AADSTS700084: The refresh token was issued to a single page app \(SPA\), and therefore has a fixed, limited lifetime of 00:00:03, which cannot be extended\. It is now expired and a new sign in request must be sent by the SPA to the sign in page\. The token was issued on (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z)\. Trace ID: [0-9a-f-]{36} Correlation ID: [0-9a-f-]{36} Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/
      .exec(b.error_description);
    assert.ok(m, b.error_description);
    // "issued on" is the sign-in, not the rotation.
    const issuedOn = Date.parse(m[1].replace(/\.\d{7}Z$/, 'Z'));
    assert.ok(Math.abs(issuedOn - signedInAt) < 1500, `${m[1]} vs ${new Date(signedInAt).toISOString()}`);

    // The first refresh token (spent by the rotation) is expired too: the same answer.
    const first = await refresh(idp, SB, body.refresh_token);
    assert.equal(first.res.status, 400);
    assert.deepEqual(first.body.error_codes, [700084]);

    // An unknown refresh token is still oidc-provider's plain invalid_grant.
    const unknown = await refresh(idp, SB, 'not-a-refresh-token');
    assert.equal(unknown.res.status, 400);
    assert.equal(unknown.body.error, 'invalid_grant');
    assert.equal(unknown.body.error_codes, undefined);

    // A new sign-in starts a new lifetime.
    const again = await signInTo(idp, SB, reader, SCOPE);
    const r2 = await refresh(idp, SB, again.body.refresh_token);
    assert.equal(r2.res.status, 200, JSON.stringify(r2.body));
  });
});

describe('a registration without refresh tokens', () => {
  const NR = registrations.find((r) => r.name === 'No refresh');
  let idp;
  before(async () => {
    idp = await startIdp({ port: 0, quiet: true, appOrigins: [APP_ORIGIN] });
  });
  after(async () => { await idp?.close(); });

  test('signs in with offline_access asked for, and never gives a refresh token', async () => {
    assert.ok(NR, 'the No refresh registration exists');
    assert.equal(idp.registrations.find((r) => r.name === 'No refresh').refreshTokens, false);
    const scope = `openid profile email offline_access api://${NR.apiAppId}/access_as_user`;
    const writer = NR.users.find((u) => u.username === 'writer@norefresh.test');
    const { browser, body } = await signInTo(idp, NR, writer, scope);
    assert.equal(body.refresh_token, undefined, JSON.stringify(body));
    assert.equal(body.refresh_token_expires_in, undefined);
    assert.ok(!String(body.scope).includes('offline_access'), body.scope);
    const at = await verifyJwt(idp, body.access_token);
    assert.equal(at.aud, NR.apiAppId);
    assert.equal(at.azp, NR.clientId);
    assert.equal(at.scp, 'access_as_user');
    assert.deepEqual(at.roles, ['Data.Read', 'Data.Write']);
    assert.equal((await verifyJwt(idp, body.id_token)).aud, NR.clientId);

    // The session is renewed by a silent authorization request instead; still no refresh token.
    const silent = await signIn(idp, browser, {
      params: { client_id: NR.clientId, scope, prompt: 'none' }, expectLogin: false,
    });
    const renewed = await token(idp, {
      grant_type: 'authorization_code',
      client_id: NR.clientId,
      code: silent.code,
      redirect_uri: REDIRECT_URI,
      code_verifier: silent.verifier,
    });
    assert.equal(renewed.res.status, 200, JSON.stringify(renewed.body));
    assert.equal(renewed.body.refresh_token, undefined);

    // The refresh_token grant is not allowed for this client at all.
    const r = await refresh(idp, NR, 'anything');
    assert.equal(r.res.status, 400);
    assert.equal(r.body.error, 'invalid_request');
    assert.equal(r.body.error_description, 'requested grant type is not allowed for this client');

    // The other registrations still get refresh tokens.
    const sb = await signInTo(idp, SB, reader, SCOPE);
    assert.ok(sb.body.refresh_token);
  });
});
