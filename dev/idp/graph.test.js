// Tests of the Microsoft Graph emulation: Graph tokens from the refresh grant, /me and the photo,
// the token checks and CORS. Run: node --test dev/idp/
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { createGraph } from './graph.js';
import { registrations } from './registrations.js';
import { GRAPH, graphIssuer } from './resources.js';
import { startIdp } from './server.js';
import {
  APP_ORIGIN, SB, TIMEOUT_MS, decodeJwt, refresh, signInTo, verifyJwt,
} from './testkit.js';

const TRE = registrations.find((r) => r.name === 'Azure TRE');
const treUser = (name) => TRE.users.find((u) => u.username === `${name}@tre.test`);
const SIGN_IN_SCOPE = `openid profile email offline_access api://${TRE.apiAppId}/user_impersonation`;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function graphGet(base, path, { bearer, headers = {} } = {}) {
  return fetch(`${base}${path}`, {
    headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
}

/** Asserts a Graph error answer: status, Graph's JSON shape, code and (part of) message. */
async function assertGraphError(res, status, code, message) {
  assert.equal(res.status, status);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const body = await res.json();
  assert.equal(body.error.code, code, JSON.stringify(body));
  if (message) assert.ok(body.error.message.includes(message), body.error.message);
  assert.ok(body.error.innerError['request-id'], 'innerError.request-id');
  assert.ok(body.error.innerError.date, 'innerError.date');
  return body;
}

describe('Microsoft Graph emulation', () => {
  let idp;
  let graphToken;
  before(async () => {
    idp = await startIdp({ port: 0, quiet: true, appOrigins: [APP_ORIGIN] });
    const { body } = await signInTo(idp, TRE, treUser('admin'), SIGN_IN_SCOPE);
    const r = await refresh(idp, TRE, body.refresh_token, 'User.Read');
    assert.equal(r.res.status, 200, JSON.stringify(r.body));
    graphToken = r.body.access_token;
  });
  after(async () => { await idp?.close(); });

  test('the Graph base URL is at the IdP origin', () => {
    assert.equal(idp.graphUrl, `${new URL(idp.issuer).origin}/graph/v1.0`);
  });

  test('a refresh grant for Graph scopes gives a Graph token (aud Graph, v1 shape) and a new refresh token', async () => {
    const admin = treUser('admin');
    let { body } = await signInTo(idp, TRE, admin, SIGN_IN_SCOPE);
    for (const scope of ['User.Read', 'https://graph.microsoft.com/User.Read', 'https://graph.microsoft.com/.default',
      'openid profile offline_access User.Read']) {
      const r = await refresh(idp, TRE, body.refresh_token, scope, { origin: APP_ORIGIN });
      assert.equal(r.res.status, 200, `${scope}: ${JSON.stringify(r.body)}`);
      assert.notEqual(r.body.refresh_token, body.refresh_token);
      const at = await verifyJwt(idp, r.body.access_token);
      assert.equal(at.aud, GRAPH.appId, scope);
      assert.equal(at.iss, graphIssuer(idp.tenant));
      assert.equal(at.ver, '1.0');
      assert.equal(at.scp, 'User.Read', scope);
      assert.equal(at.appid, TRE.clientId);
      assert.equal(at.app_displayname, 'Azure TRE');
      assert.equal(at.upn, admin.username);
      assert.equal(at.oid, admin.oid);
      assert.equal(at.tid, idp.tenant);
      assert.equal('roles' in at, false);
      assert.equal('azp' in at, false);
      body = r.body;
    }
    // ... and the refresh token still serves the TRE API.
    const core = await refresh(idp, TRE, body.refresh_token, `api://${TRE.apiAppId}/user_impersonation`);
    assert.equal((await verifyJwt(idp, core.body.access_token)).aud, TRE.apiAppId);
  });

  test('GET /me returns the user as Graph does, with CORS for the app', async () => {
    const admin = treUser('admin');
    const res = await graphGet(idp.graphUrl, '/me', { bearer: graphToken, headers: { origin: APP_ORIGIN } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.ok(res.headers.get('request-id'));
    const me = await res.json();
    assert.equal(me['@odata.context'], `${idp.graphUrl}/$metadata#users/$entity`);
    assert.equal(me.id, admin.oid);
    assert.equal(me.displayName, 'Tomas Admin');
    assert.equal(me.givenName, 'Tomas');
    assert.equal(me.surname, 'Admin');
    assert.equal(me.jobTitle, 'TRE Administrator');
    assert.equal(me.mail, admin.email);
    assert.equal(me.userPrincipalName, admin.username);
    assert.deepEqual(me.businessPhones, []);
    assert.equal(me.officeLocation, null);

    const picked = await (await graphGet(idp.graphUrl, '/me?$select=displayName,jobTitle', { bearer: graphToken })).json();
    assert.deepEqual(picked, {
      '@odata.context': `${idp.graphUrl}/$metadata#users(displayName,jobTitle)/$entity`,
      displayName: 'Tomas Admin',
      jobTitle: 'TRE Administrator',
    });
    await assertGraphError(await graphGet(idp.graphUrl, '/me?$select=shoeSize', { bearer: graphToken }),
      400, 'BadRequest', "property named 'shoeSize'");
  });

  test('the photo: PNG bytes and metadata; ImageNotFound for a user without one', async () => {
    const res = await graphGet(idp.graphUrl, '/me/photo/$value', { bearer: graphToken, headers: { origin: APP_ORIGIN } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('access-control-allow-origin'), APP_ORIGIN);
    const png = Buffer.from(await res.arrayBuffer());
    assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
    assert.equal(png.subarray(12, 16).toString('ascii'), 'IHDR');
    assert.equal(png.readUInt32BE(16), 96);
    assert.equal(png.readUInt32BE(20), 96);
    assert.equal(res.headers.get('content-length'), String(png.length));

    const meta = await (await graphGet(idp.graphUrl, '/me/photo', { bearer: graphToken })).json();
    assert.equal(meta['@odata.mediaContentType'], 'image/png');
    assert.equal(meta.width, 96);
    assert.equal(meta['@odata.mediaEtag'], res.headers.get('etag'));

    // Ursula (user@tre.test) has no photo.
    const { body } = await signInTo(idp, TRE, treUser('user'), SIGN_IN_SCOPE);
    const r = await refresh(idp, TRE, body.refresh_token, 'https://graph.microsoft.com/User.Read');
    const noPhoto = await graphGet(idp.graphUrl, '/me/photo/$value', {
      bearer: r.body.access_token, headers: { origin: APP_ORIGIN },
    });
    assert.equal(noPhoto.headers.get('access-control-allow-origin'), APP_ORIGIN);
    await assertGraphError(noPhoto, 404, 'ImageNotFound');
    await assertGraphError(await graphGet(idp.graphUrl, '/me/photo', { bearer: r.body.access_token }), 404, 'ImageNotFound');
    const me = await (await graphGet(idp.graphUrl, '/me', { bearer: r.body.access_token })).json();
    assert.equal(me.jobTitle, 'Research Scientist');
  });

  test('a photo that is no picture: Vera\'s is an SVG document with a script in it', async () => {
    const { body } = await signInTo(idp, TRE, treUser('vector'), SIGN_IN_SCOPE);
    const r = await refresh(idp, TRE, body.refresh_token, 'https://graph.microsoft.com/User.Read');
    const res = await graphGet(idp.graphUrl, '/me/photo/$value', { bearer: r.body.access_token });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/svg+xml');
    assert.match(await res.text(), /^<svg [^]*<script>/);
    const meta = await (await graphGet(idp.graphUrl, '/me/photo', { bearer: r.body.access_token })).json();
    assert.equal(meta['@odata.mediaContentType'], 'image/svg+xml');
  });

  test('401 without a Graph token: none, another API\'s token, a forged one', async () => {
    const missing = await graphGet(idp.graphUrl, '/me', { headers: { origin: APP_ORIGIN } });
    assert.equal(missing.headers.get('access-control-allow-origin'), APP_ORIGIN, 'the app can read the 401');
    assert.match(missing.headers.get('www-authenticate'), /^Bearer realm="", authorization_uri="[^"]+", client_id="00000003-0000-0000-c000-000000000000"$/);
    assert.match(missing.headers.get('access-control-expose-headers'), /WWW-Authenticate/);
    await assertGraphError(missing, 401, 'InvalidAuthenticationToken', 'Access token is empty.');

    const { body } = await signInTo(idp, TRE, treUser('user'), SIGN_IN_SCOPE);
    await assertGraphError(await graphGet(idp.graphUrl, '/me', { bearer: body.access_token }),
      401, 'InvalidAuthenticationToken', 'Invalid audience');

    const [h, p] = graphToken.split('.');
    const otherKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const forged = `${h}.${p}.${crypto.sign('sha256', Buffer.from(`${h}.${p}`), otherKey).toString('base64url')}`;
    await assertGraphError(await graphGet(idp.graphUrl, '/me', { bearer: forged }),
      401, 'InvalidAuthenticationToken', 'Access token validation failure');
    await assertGraphError(await graphGet(idp.graphUrl, '/me', { bearer: 'not-a-jwt' }),
      401, 'InvalidAuthenticationToken', 'CompactToken parsing failed');
    await assertGraphError(await graphGet(idp.graphUrl, '/me', { headers: { authorization: `Basic ${graphToken}` } }),
      401, 'InvalidAuthenticationToken', 'Access token is empty.');
  });

  test('unknown paths, versions and methods', async () => {
    await assertGraphError(await graphGet(idp.graphUrl, '/me/manager', { bearer: graphToken }),
      400, 'BadRequest', "segment 'manager'");
    const base = idp.graphUrl.replace('/v1.0', '');
    await assertGraphError(await graphGet(base, '/v2.0/me', { bearer: graphToken }), 400, 'BadRequest', 'Invalid version');
    const post = await fetch(`${idp.graphUrl}/me`, {
      method: 'POST', headers: { authorization: `Bearer ${graphToken}` }, signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await assertGraphError(post, 405, 'Request_BadRequest');
  });

  test('CORS preflight: allowed for the app origin, nothing for others', async () => {
    const preflight = (origin) => fetch(`${idp.graphUrl}/me/photo/$value`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization,client-request-id',
      },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const ok = await preflight(APP_ORIGIN);
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.match(ok.headers.get('access-control-allow-methods'), /GET/);
    assert.match(ok.headers.get('access-control-allow-headers').toLowerCase(), /authorization/);
    assert.ok(Number(ok.headers.get('access-control-max-age')) > 0);
    const evil = await preflight('http://evil.test');
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    assert.equal(evil.headers.get('access-control-allow-methods'), null);
    const evilGet = await graphGet(idp.graphUrl, '/me', { bearer: graphToken, headers: { origin: 'http://evil.test' } });
    assert.equal(evilGet.headers.get('access-control-allow-origin'), null);
  });

  test('every registration may use Graph (StudyBuilder too)', async () => {
    const reader = SB.users.find((u) => u.username.startsWith('reader'));
    const { body } = await signInTo(idp, SB, reader, `openid offline_access api://${SB.apiAppId}/API.call`);
    const r = await refresh(idp, SB, body.refresh_token, 'User.Read');
    assert.equal(r.res.status, 200, JSON.stringify(r.body));
    const me = await (await graphGet(idp.graphUrl, '/me', { bearer: r.body.access_token })).json();
    assert.equal(me.jobTitle, 'Clinical Data Reviewer');
    assert.equal(decodeJwt(r.body.access_token).payload.app_displayname, 'StudyBuilder');
  });

  test('Graph consent missing: AADSTS65001 until an interactive sign-in with prompt=consent', async () => {
    const nils = treUser('norole');
    const { body } = await signInTo(idp, TRE, nils, SIGN_IN_SCOPE);
    const refused = await refresh(idp, TRE, body.refresh_token, 'User.Read', { origin: APP_ORIGIN });
    assert.equal(refused.res.status, 400);
    assert.equal(refused.body.error, 'invalid_grant');
    assert.match(refused.body.error_description, /^AADSTS65001: The user or administrator has not consented to use the application with ID 'af08e0e9-df58-4879-a561-23f33139a170' named 'Azure TRE'\./);
    assert.deepEqual(refused.body.error_codes, [65001]);
    assert.equal(refused.body.suberror, 'consent_required');
    assert.equal(refused.res.headers.get('access-control-allow-origin'), APP_ORIGIN);

    const { body: consented } = await signInTo(idp, TRE, nils, 'openid profile offline_access User.Read', { prompt: 'consent' });
    const at = await verifyJwt(idp, consented.access_token);
    assert.equal(at.aud, GRAPH.appId);
    const me = await (await graphGet(idp.graphUrl, '/me', { bearer: consented.access_token })).json();
    assert.equal(me.jobTitle, null);
    assert.equal(me.displayName, 'Nils Noroles');

    // The refresh token from before the consent now gets Graph tokens as well.
    const later = await refresh(idp, TRE, body.refresh_token, 'User.Read');
    assert.equal(later.res.status, 200, JSON.stringify(later.body));
  });
});

// Token checks that a running IdP cannot be made to fail (expiry, issuer, scope), against the
// Graph emulation alone with a key of the test's own.
describe('Graph token checks', () => {
  const tenant = '11111111-2222-3333-4444-555555555555';
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const user = { oid: 'u-1', name: 'Test User', username: 'test@example.test', email: 'test@example.test' };
  let server;
  let base;

  before(async () => {
    server = http.createServer();
    await new Promise((resolve) => { server.listen(0, '127.0.0.1', resolve); });
    const origin = `http://127.0.0.1:${server.address().port}`;
    const graph = createGraph({
      origin,
      tenant,
      appOrigins: [APP_ORIGIN],
      publicKey,
      kid: 'k1',
      findUser: (oid) => (oid === user.oid ? user : undefined),
      authorizeUrl: `${origin}/authorize`,
    });
    server.on('request', (req, res) => graph.handle(req, res, new URL(req.url, origin)));
    base = graph.baseUrl;
  });
  after(async () => {
    server.closeAllConnections?.();
    await new Promise((resolve) => { server.close(resolve); });
  });

  const mint = (overrides = {}, kid = 'k1') => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      aud: GRAPH.appId, iss: graphIssuer(tenant), iat: now, nbf: now, exp: now + 600, scp: 'User.Read', oid: user.oid, ...overrides,
    };
    const h = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid })).toString('base64url');
    const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${h}.${p}.${crypto.sign('sha256', Buffer.from(`${h}.${p}`), privateKey).toString('base64url')}`;
  };

  test('a valid token is accepted; Graph\'s resource URI as aud too', async () => {
    assert.equal((await graphGet(base, '/me', { bearer: mint() })).status, 200);
    assert.equal((await graphGet(base, '/me', { bearer: mint({ aud: 'https://graph.microsoft.com' }) })).status, 200);
    assert.equal((await graphGet(base, '/me', { bearer: mint({ scp: 'openid user.read profile' }) })).status, 200);
  });

  test('expired, not yet valid, wrong issuer, wrong kid: 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const [bearer, message] of [
      [mint({ exp: now - 120 }), 'Lifetime validation failed'],
      [mint({ exp: undefined }), 'Lifetime validation failed'],
      [mint({ nbf: now + 600, exp: now + 1200 }), 'Lifetime validation failed'],
      [mint({ iss: 'https://login.microsoftonline.com/x/v2.0' }), 'Invalid issuer'],
      [mint({}, 'other-kid'), 'Access token validation failure'],
    ]) {
      await assertGraphError(await graphGet(base, '/me', { bearer }), 401, 'InvalidAuthenticationToken', message);
    }
  });

  test('a Graph token without User.Read: 403 Authorization_RequestDenied', async () => {
    await assertGraphError(await graphGet(base, '/me', { bearer: mint({ scp: 'Mail.Read' }) }), 403, 'Authorization_RequestDenied');
  });

  test('an unknown user: 404', async () => {
    await assertGraphError(await graphGet(base, '/me', { bearer: mint({ oid: 'nobody' }) }), 404, 'Request_ResourceNotFound');
  });
});
