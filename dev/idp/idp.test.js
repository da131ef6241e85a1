// Tests for the development identity provider. Run: node --test dev/idp/
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { startIdp } from './server.js';
import { DEFAULT_TENANT, registrations } from './registrations.js';
import {
  API_URI, APP_ORIGIN, Browser, REDIRECT_URI, SB, SCOPE, TIMEOUT_MS, authorizeUrl, decodeJwt,
  fragmentParams, pkce, redeem, signIn, signInTo, token, verifyJwt,
} from './testkit.js';

const user = (username) => SB.users.find((u) => u.username === username);

// ---------------------------------------------------------------- tests

describe('dev IdP (in-process)', () => {
  let idp;
  let origin;

  before(async () => {
    idp = await startIdp({ port: 0, quiet: true, appOrigins: [APP_ORIGIN, 'http://localhost:8080'] });
    origin = new URL(idp.issuer).origin;
  });
  after(async () => { await idp?.close(); });

  test('issuer and health', async () => {
    assert.equal(idp.tenant, DEFAULT_TENANT);
    assert.equal(idp.issuer, `${origin}/${DEFAULT_TENANT}/v2.0`);
    const res = await fetch(`${origin}/_health`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    assert.equal(res.status, 200);
  });

  test('discovery document looks like Entra v2 (query string accepted)', async () => {
    const res = await fetch(`${idp.issuer}/.well-known/openid-configuration?appid=${SB.clientId}`, {
      headers: { origin: APP_ORIGIN }, signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    assert.equal(res.status, 200);
    assert.ok(res.headers.get('access-control-allow-origin'), 'discovery is CORS-enabled');
    const doc = await res.json();
    const base = `${origin}/${DEFAULT_TENANT}`;
    assert.equal(doc.issuer, idp.issuer);
    assert.equal(doc.authorization_endpoint, `${base}/oauth2/v2.0/authorize`);
    assert.equal(doc.token_endpoint, `${base}/oauth2/v2.0/token`);
    assert.equal(doc.end_session_endpoint, `${base}/oauth2/v2.0/logout`);
    assert.equal(doc.jwks_uri, `${base}/discovery/v2.0/keys`);
    assert.ok(doc.response_modes_supported.includes('fragment'));
    assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
    assert.equal(doc.authorization_response_iss_parameter_supported, true);

    const keys = await fetch(doc.jwks_uri, { headers: { origin: APP_ORIGIN }, signal: AbortSignal.timeout(TIMEOUT_MS) });
    assert.equal(keys.status, 200);
    assert.ok(keys.headers.get('access-control-allow-origin'));
    const jwks = await keys.json();
    assert.equal(jwks.keys[0].kty, 'RSA');
    assert.equal(jwks.keys[0].d, undefined);
  });

  test('code + PKCE flow, tokens, refresh rotation', async () => {
    const browser = new Browser();
    const reader = user('reader@studybuilder.test');

    // wrong password re-renders the form with an error
    const { challenge, verifier } = pkce();
    const state = 's-1';
    const nonce = 'n-1';
    const first = await browser.follow(authorizeUrl(idp, { code_challenge: challenge, state, nonce }), origin);
    assert.equal(first.res.status, 200);
    const loginUrl = first.url;
    assert.match(loginUrl, new RegExp(`^${origin}/${DEFAULT_TENANT}/login/`));
    const loginHtml = await first.res.text();
    assert.ok(loginHtml.includes('reader@studybuilder.test'), 'login page lists the test users');
    assert.ok(loginHtml.includes('StudyBuilder'));

    const unknown = await browser.follow(loginUrl, origin, {
      method: 'POST', form: { login: 'x"<b>@nowhere.test', password: 'x' },
    });
    const unknownHtml = await unknown.res.text();
    assert.match(unknownHtml, /class="error"/);
    assert.ok(unknownHtml.includes('value="x&quot;&lt;b&gt;@nowhere.test"'), 'login value is HTML-escaped');
    assert.ok(!unknownHtml.includes('x"<b>'));

    const bad = await browser.follow(loginUrl, origin, {
      method: 'POST', form: { login: reader.username, password: 'wrong<script>' },
    });
    assert.equal(bad.res.status, 200);
    assert.equal(bad.left, undefined);
    const badHtml = await bad.res.text();
    assert.match(badHtml, /class="error"/);
    assert.match(badHtml, /incorrect/);

    // correct password: redirect to the callback with the code in the fragment
    const ok = await browser.follow(loginUrl, origin, {
      method: 'POST', form: { login: reader.username, password: reader.password },
    });
    assert.ok(ok.left);
    assert.ok(ok.url.startsWith(`${REDIRECT_URI}#`), ok.url);
    assert.equal(new URL(ok.url).search, '', 'nothing in the query with response_mode=fragment');
    const fp = fragmentParams(ok.url);
    assert.equal(fp.get('state'), state);
    assert.equal(fp.get('iss'), idp.issuer);
    const code = fp.get('code');
    assert.ok(code);

    // token exchange: public client, no secret, CORS for the app origin
    const { res, body } = await redeem(idp, { code, verifier }, { origin: APP_ORIGIN });
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(res.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.equal(body.token_type, 'Bearer');
    assert.ok(body.refresh_token, 'refresh token issued for offline_access');
    assert.ok(body.id_token);
    assert.ok(body.expires_in > 3500 && body.expires_in <= 3600);

    const at = await verifyJwt(idp, body.access_token);
    assert.equal(decodeJwt(body.access_token).header.typ, 'JWT');
    assert.equal(at.aud, SB.apiAppId);
    assert.equal(at.iss, idp.issuer);
    assert.equal(at.scp, 'API.call');
    assert.deepEqual(at.roles, reader.roles);
    assert.equal(at.ver, '2.0');
    assert.equal(at.tid, DEFAULT_TENANT);
    assert.equal(at.oid, reader.oid);
    assert.equal(at.name, reader.name);
    assert.equal(at.preferred_username, reader.username);
    assert.equal(at.azp, SB.clientId);
    assert.ok(at.sub);
    assert.equal(at.scope, undefined);
    assert.equal(at.exp - at.iat, 3600);

    const id = await verifyJwt(idp, body.id_token);
    assert.equal(id.aud, SB.clientId);
    assert.equal(id.iss, idp.issuer);
    assert.equal(id.nonce, nonce);
    assert.equal(id.name, reader.name);
    assert.equal(id.email, reader.email);
    assert.equal(id.preferred_username, reader.username);
    assert.deepEqual(id.roles, reader.roles);
    assert.equal(id.oid, reader.oid);
    assert.equal(id.tid, DEFAULT_TENANT);
    assert.equal(id.ver, '2.0');
    assert.ok(id.sid);

    // refresh works and rotates
    const r1 = await token(idp, {
      grant_type: 'refresh_token', client_id: SB.clientId, refresh_token: body.refresh_token,
    }, { origin: APP_ORIGIN });
    assert.equal(r1.res.status, 200, JSON.stringify(r1.body));
    assert.equal(r1.res.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.ok(r1.body.refresh_token);
    assert.notEqual(r1.body.refresh_token, body.refresh_token);
    const at2 = await verifyJwt(idp, r1.body.access_token);
    assert.equal(at2.aud, SB.apiAppId);
    assert.equal(at2.scp, 'API.call');
    assert.deepEqual(at2.roles, reader.roles);
    const id2 = await verifyJwt(idp, r1.body.id_token);
    assert.equal(id2.oid, reader.oid);

    // refresh with an explicit scope (as MSAL-style clients send) also works
    const r2 = await token(idp, {
      grant_type: 'refresh_token', client_id: SB.clientId, refresh_token: r1.body.refresh_token, scope: SCOPE,
    });
    assert.equal(r2.res.status, 200, JSON.stringify(r2.body));
    assert.equal((await verifyJwt(idp, r2.body.access_token)).scp, 'API.call');

    // the old refresh token is now dead
    const reuse = await token(idp, {
      grant_type: 'refresh_token', client_id: SB.clientId, refresh_token: body.refresh_token,
    });
    assert.equal(reuse.res.status, 400);
    assert.equal(reuse.body.error, 'invalid_grant');
  });

  test('token endpoint: CORS only for app origins, PKCE verifier checked, codes single-use', async () => {
    const browser = new Browser();
    const u = user('author@studybuilder.test');
    const r = await signIn(idp, browser, { username: u.username, password: u.password });
    const evil = await redeem(idp, r, { origin: 'http://evil.test' });
    assert.equal(evil.res.status, 400);
    assert.equal(evil.res.headers.get('access-control-allow-origin'), null);
    const wrong = await redeem(idp, { code: r.code, verifier: pkce().verifier });
    assert.equal(wrong.body.error, 'invalid_grant');

    // a code is single-use (a replay also revokes what was issued from it)
    const r2 = await signIn(idp, browser, { expectLogin: false });
    const good = await redeem(idp, r2);
    assert.equal(good.res.status, 200);
    const replay = await redeem(idp, r2);
    assert.equal(replay.body.error, 'invalid_grant');
  });

  test('user without roles has no roles claim; SSO with prompt=none', async () => {
    const browser = new Browser();
    const u = user('norole@studybuilder.test');
    const r = await signIn(idp, browser, { username: u.username, password: u.password });
    const { body } = await redeem(idp, r);
    const at = await verifyJwt(idp, body.access_token);
    assert.equal(at.oid, u.oid);
    assert.equal('roles' in at, false);
    const id = await verifyJwt(idp, body.id_token);
    assert.equal('roles' in id, false);

    // existing session: prompt=none succeeds silently, still with a refresh token
    const silent = await signIn(idp, browser, { params: { prompt: 'none' }, expectLogin: false });
    const t = await redeem(idp, silent);
    assert.equal(t.res.status, 200, JSON.stringify(t.body));
    assert.ok(t.body.refresh_token);
    assert.equal((await verifyJwt(idp, t.body.access_token)).oid, u.oid);

    // prompt=select_account (Entra's account picker) shows the login form again
    const { challenge } = pkce();
    const pick = await browser.follow(authorizeUrl(idp, { code_challenge: challenge, prompt: 'select_account' }), origin);
    assert.equal(pick.res.status, 200);
    assert.match(await pick.res.text(), /name="password"/);
  });

  test('prompt=consent is accepted (consent is granted automatically)', async () => {
    const browser = new Browser();
    const u = user('reader@studybuilder.test');
    const r = await signIn(idp, browser, { username: u.username, password: u.password, params: { prompt: 'consent' } });
    const { res, body } = await redeem(idp, r);
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.ok(body.refresh_token);
    assert.equal((await verifyJwt(idp, body.access_token)).scp, 'API.call');
  });

  test('.default scope grants all of the API scopes', async () => {
    const browser = new Browser();
    const u = user('super@studybuilder.test');
    const r = await signIn(idp, browser, {
      username: u.username,
      password: u.password,
      params: { scope: `openid profile offline_access ${API_URI}/.default` },
    });
    const { body } = await redeem(idp, r);
    const at = await verifyJwt(idp, body.access_token);
    assert.equal(at.aud, SB.apiAppId);
    assert.equal(at.scp, 'API.call');
    assert.deepEqual(at.roles, u.roles);
  });

  test('every registration: its users sign in to its client and get tokens for its API', async () => {
    const cases = [
      { name: 'Azure TRE', scope: 'user_impersonation', scp: 'user_impersonation' },
      { name: 'Influxion', scope: 'access_as_user', scp: 'access_as_user' },
      // DESTINY's clients ask for .default, which grants all of the API's delegated scopes.
      { name: 'DESTINY', scope: '.default', scp: 'reference.reader.all import.writer.all' },
    ];
    for (const { name, scope, scp } of cases) {
      const reg = registrations.find((r) => r.name === name);
      assert.ok(reg, name);
      const uri = reg.apiAppIdUri ?? `api://${reg.apiAppId}`;
      for (const u of reg.users) {
        const { body } = await signInTo(idp, reg, u, `openid profile email offline_access ${uri}/${scope}`);
        const at = await verifyJwt(idp, body.access_token);
        assert.equal(at.aud, reg.apiAppId, u.username);
        assert.equal(at.azp, reg.clientId);
        assert.equal(at.scp, scp, u.username);
        assert.equal(at.preferred_username, u.username);
        if (u.roles.length) assert.deepEqual(at.roles, u.roles, u.username);
        else assert.equal('roles' in at, false, `${u.username} has no roles claim`);
        const id = await verifyJwt(idp, body.id_token);
        assert.equal(id.aud, reg.clientId);
      }
    }
  });

  test("a user of one registration cannot sign in to another's client", async () => {
    const tre = registrations.find((r) => r.name === 'Azure TRE');
    const admin = tre.users.find((u) => u.roles.includes('TREAdmin'));
    const browser = new Browser();
    const { challenge } = pkce();
    const first = await browser.follow(authorizeUrl(idp, { code_challenge: challenge }), origin);
    assert.equal(first.res.status, 200);
    const step = await browser.follow(first.url, origin, {
      method: 'POST', form: { login: admin.username, password: admin.password },
    });
    assert.equal(step.left, undefined);
    assert.match(await step.res.text(), /incorrect/);
  });

  test('prompt=none without a session returns login_required in the fragment', async () => {
    const browser = new Browser();
    const { challenge } = pkce();
    const step = await browser.follow(authorizeUrl(idp, { code_challenge: challenge, prompt: 'none', state: 'pn' }), origin);
    assert.ok(step.left);
    assert.ok(step.url.startsWith(`${REDIRECT_URI}#`), step.url);
    const fp = fragmentParams(step.url);
    assert.equal(fp.get('error'), 'login_required');
    assert.equal(fp.get('state'), 'pn');
  });

  test('cancel on the login page returns access_denied', async () => {
    const browser = new Browser();
    const { challenge } = pkce();
    const first = await browser.follow(authorizeUrl(idp, { code_challenge: challenge, state: 'c' }), origin);
    assert.equal(first.res.status, 200);
    const step = await browser.follow(first.url, origin, { method: 'POST', form: { cancel: '1' } });
    assert.ok(step.left);
    const fp = fragmentParams(step.url);
    assert.equal(fp.get('error'), 'access_denied');
    assert.equal(fp.get('state'), 'c');
  });

  test('unregistered redirect_uri shows an error page instead of redirecting', async () => {
    const browser = new Browser();
    const { challenge } = pkce();
    const res = await browser.fetch(authorizeUrl(idp, {
      code_challenge: challenge, redirect_uri: 'http://127.0.0.1:9999/oauth-callback',
    }));
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.match(await res.text(), /redirect_uri/);
  });

  test('missing PKCE is rejected', async () => {
    const browser = new Browser();
    const step = await browser.follow(authorizeUrl(idp, { code_challenge_method: undefined, state: 'p' }), origin);
    assert.ok(step.left);
    assert.equal(fragmentParams(step.url).get('error'), 'invalid_request');
  });

  test('logout ends the session and redirects to post_logout_redirect_uri', async () => {
    const browser = new Browser();
    const u = user('librarian@studybuilder.test');
    const r = await signIn(idp, browser, { username: u.username, password: u.password });
    const { body } = await redeem(idp, r);
    const logoutUrl = new URL(`${origin}/${DEFAULT_TENANT}/oauth2/v2.0/logout`);
    logoutUrl.searchParams.set('id_token_hint', body.id_token);
    logoutUrl.searchParams.set('client_id', SB.clientId);
    logoutUrl.searchParams.set('post_logout_redirect_uri', `${APP_ORIGIN}/`);
    logoutUrl.searchParams.set('state', 'bye');
    const res = await browser.fetch(logoutUrl.href);
    assert.equal(res.status, 200);
    const html = await res.text();
    // auto-submitting form; a browser submits it by itself, here we submit it by hand
    const action = html.match(/<form[^>]+action="([^"]+)"/)[1];
    const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)]
      .map((m) => [m[1], m[2]]));
    assert.equal(fields.logout, 'yes');
    assert.match(html, /\.submit\(\)/);
    const done = await browser.follow(new URL(action, origin).href, origin, { method: 'POST', form: fields });
    assert.ok(done.left);
    assert.equal(done.url, `${APP_ORIGIN}/?state=bye`);

    // the session is gone
    const { challenge } = pkce();
    const silent = await browser.follow(authorizeUrl(idp, { code_challenge: challenge, prompt: 'none' }), origin);
    assert.equal(fragmentParams(silent.url).get('error'), 'login_required');
  });
});

describe('dev IdP (CLI, env configuration)', () => {
  let child;
  let issuer;

  before(async () => {
    const script = fileURLToPath(new URL('./server.js', import.meta.url));
    child = spawn(process.execPath, [script], {
      env: {
        ...process.env,
        IDP_PORT: '0',
        IDP_ACCESS_TOKEN_TTL: '20',
        IDP_ID_TOKEN_TTL: '30',
        IDP_REFRESH_TOKEN_TTL: '120',
        IDP_APP_ORIGINS: APP_ORIGIN,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    issuer = await new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      const timer = setTimeout(() => reject(new Error(`IdP did not start: ${out}${err}`)), TIMEOUT_MS);
      child.stderr.on('data', (d) => { err += d; });
      child.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/^IdP ready: (\S+)$/m);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      child.on('exit', (codeOrSignal) => { clearTimeout(timer); reject(new Error(`IdP exited (${codeOrSignal}): ${err}`)); });
    });
  });

  after(async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  });

  test('short token lifetimes from the environment are honoured', async () => {
    const url = new URL(issuer);
    const idp = { issuer, tenant: url.pathname.split('/')[1] };
    const browser = new Browser();
    const u = user('reader@studybuilder.test');
    const r = await signIn(idp, browser, { username: u.username, password: u.password });
    const { res, body } = await redeem(idp, r, { origin: APP_ORIGIN });
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.ok(body.expires_in <= 20 && body.expires_in >= 18, `expires_in ${body.expires_in}`);
    const at = await verifyJwt(idp, body.access_token);
    assert.equal(at.exp - at.iat, 20);
    const id = await verifyJwt(idp, body.id_token);
    assert.equal(id.exp - id.iat, 30);
    const r1 = await token(idp, { grant_type: 'refresh_token', client_id: SB.clientId, refresh_token: body.refresh_token });
    assert.equal(r1.res.status, 200, JSON.stringify(r1.body));
    assert.ok(r1.body.expires_in <= 20);
  });

  test('SIGTERM stops the process', async () => {
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.kill('SIGTERM');
    let timer;
    const result = await Promise.race([
      exited,
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('no exit after SIGTERM')), TIMEOUT_MS); }),
    ]).finally(() => clearTimeout(timer));
    assert.equal(result.code, 0);
  });
});
