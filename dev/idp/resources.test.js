// Tests of one sign-in serving several APIs: a refresh-token grant for another API the
// registration declares (Azure TRE workspaces), and consent that is missing for one of them.
// Run: node --test dev/idp/
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import {
  normaliseRegistrations, registrations, TRE_WORKSPACE_ALPHA, TRE_WORKSPACE_BETA,
} from './registrations.js';
import { startIdp } from './server.js';
import {
  APP_ORIGIN, Browser, REDIRECT_URI, SB, authorizeUrl, fragmentParams, pkce, refresh, signIn,
  signInTo, token, verifyJwt,
} from './testkit.js';

const TRE = registrations.find((r) => r.name === 'Azure TRE');
const treUser = (name) => TRE.users.find((u) => u.username === `${name}@tre.test`);
const CORE = `api://${TRE.apiAppId}/user_impersonation`;
const ALPHA = `api://${TRE_WORKSPACE_ALPHA}`;
const BETA = `api://${TRE_WORKSPACE_BETA}`;
const SIGN_IN_SCOPE = `openid profile email offline_access ${CORE}`;

/** Asserts Entra's AADSTS65001 answer of the token endpoint for the Azure TRE client. */
function assertConsentRequired({ res, body }) {
  assert.equal(res.status, 400, JSON.stringify(body));
  assert.equal(body.error, 'invalid_grant');
  assert.ok(body.error_description.startsWith(
    `AADSTS65001: The user or administrator has not consented to use the application with ID '${TRE.clientId}' named 'Azure TRE'. Send an interactive authorization request for this user and resource.`,
  ), body.error_description);
  assert.deepEqual(body.error_codes, [65001]);
  assert.equal(body.suberror, 'consent_required');
  assert.match(body.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  assert.match(body.trace_id, /^[0-9a-f-]{36}$/);
  assert.match(body.correlation_id, /^[0-9a-f-]{36}$/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
}

describe('one sign-in, several APIs', () => {
  let idp;
  before(async () => {
    idp = await startIdp({ port: 0, quiet: true, appOrigins: [APP_ORIGIN] });
  });
  after(async () => { await idp?.close(); });

  test('a refresh grant for a workspace API: its aud, its roles, a rotated refresh token', async () => {
    const admin = treUser('admin');
    const { body: signedIn } = await signInTo(idp, TRE, admin, SIGN_IN_SCOPE);
    const core = await verifyJwt(idp, signedIn.access_token);
    assert.equal(core.aud, TRE.apiAppId);
    assert.deepEqual(core.roles, ['TREAdmin']);

    const ws = await refresh(idp, TRE, signedIn.refresh_token, `${ALPHA}/user_impersonation`, { origin: APP_ORIGIN });
    assert.equal(ws.res.status, 200, JSON.stringify(ws.body));
    assert.equal(ws.res.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.ok(ws.body.refresh_token, 'a new refresh token');
    assert.notEqual(ws.body.refresh_token, signedIn.refresh_token);
    const at = await verifyJwt(idp, ws.body.access_token);
    assert.equal(at.aud, TRE_WORKSPACE_ALPHA);
    assert.equal(at.scp, 'user_impersonation');
    assert.deepEqual(at.roles, ['WorkspaceOwner']);
    assert.equal(at.iss, idp.issuer);
    assert.equal(at.azp, TRE.clientId);
    assert.equal(at.oid, admin.oid);
    assert.equal(at.preferred_username, admin.username);
    assert.equal(at.ver, '2.0');

    // The used refresh token is spent (rotation), as for the API it was issued for.
    const reuse = await refresh(idp, TRE, signedIn.refresh_token, `${ALPHA}/user_impersonation`);
    assert.equal(reuse.res.status, 400);
    assert.equal(reuse.body.error, 'invalid_grant');
  });

  test('the rotated refresh token serves every API: core, workspace (.default, MSAL-style scopes), and core again without scope', async () => {
    const owner = treUser('admin');
    let { body } = await signInTo(idp, TRE, owner, SIGN_IN_SCOPE);
    const next = async (scope) => {
      const r = await refresh(idp, TRE, body.refresh_token, scope);
      assert.equal(r.res.status, 200, `${scope}: ${JSON.stringify(r.body)}`);
      body = r.body;
      return verifyJwt(idp, r.body.access_token);
    };
    assert.equal((await next(`${ALPHA}/.default`)).scp, 'user_impersonation');
    const core = await next(CORE);
    assert.equal(core.aud, TRE.apiAppId);
    assert.deepEqual(core.roles, ['TREAdmin']);
    const msal = await next(`openid profile offline_access ${ALPHA}/user_impersonation`);
    assert.equal(msal.aud, TRE_WORKSPACE_ALPHA);
    assert.ok(body.id_token, 'openid asked: an ID token too');
    assert.equal((await verifyJwt(idp, body.id_token)).aud, TRE.clientId);
    // No scope: the API the refresh token was first issued for.
    const plain = await next(undefined);
    assert.equal(plain.aud, TRE.apiAppId);
    assert.equal(plain.scp, 'user_impersonation');
  });

  test('workspace roles are per user and per workspace; none means no roles claim', async () => {
    const cases = [
      ['user', ALPHA, TRE_WORKSPACE_ALPHA, ['WorkspaceResearcher']],
      ['user', BETA, TRE_WORKSPACE_BETA, []],
      ['norole', ALPHA, TRE_WORKSPACE_ALPHA, []],
    ];
    for (const [name, uri, aud, roles] of cases) {
      const { body } = await signInTo(idp, TRE, treUser(name), SIGN_IN_SCOPE);
      const r = await refresh(idp, TRE, body.refresh_token, `${uri}/user_impersonation`);
      assert.equal(r.res.status, 200, `${name} ${uri}: ${JSON.stringify(r.body)}`);
      const at = await verifyJwt(idp, r.body.access_token);
      assert.equal(at.aud, aud);
      if (roles.length) assert.deepEqual(at.roles, roles, `${name} on ${uri}`);
      else assert.equal('roles' in at, false, `${name} on ${uri} has no roles claim`);
    }
  });

  test('an authorization request may ask for a workspace API directly', async () => {
    const { body } = await signInTo(idp, TRE, treUser('user'), `openid profile offline_access ${ALPHA}/user_impersonation`);
    const at = await verifyJwt(idp, body.access_token);
    assert.equal(at.aud, TRE_WORKSPACE_ALPHA);
    assert.deepEqual(at.roles, ['WorkspaceResearcher']);
  });

  test("APIs of another registration, unknown APIs and two APIs at once are refused", async () => {
    const reader = SB.users[0];
    const { body } = await signInTo(idp, SB, reader, `openid offline_access api://${SB.apiAppId}/API.call`);
    const foreign = await refresh(idp, SB, body.refresh_token, `${ALPHA}/user_impersonation`);
    assert.equal(foreign.res.status, 400, JSON.stringify(foreign.body));
    assert.equal(foreign.body.error, 'invalid_target');

    const unknown = await refresh(idp, SB, body.refresh_token, 'api://00000000-0000-0000-0000-000000000001/x');
    assert.equal(unknown.res.status, 400);
    assert.equal(unknown.body.error, 'invalid_scope');

    const { body: tre } = await signInTo(idp, TRE, treUser('admin'), SIGN_IN_SCOPE);
    const both = await refresh(idp, TRE, tre.refresh_token, `${CORE} ${ALPHA}/user_impersonation`);
    assert.equal(both.res.status, 400);
    assert.equal(both.body.error, 'invalid_scope');
    // The refused requests did not spend the refresh token.
    assert.equal((await refresh(idp, TRE, tre.refresh_token, CORE)).res.status, 200);
  });
});

describe('consent missing for one API', () => {
  let idp;
  before(async () => {
    idp = await startIdp({ port: 0, quiet: true, appOrigins: [APP_ORIGIN] });
  });
  after(async () => { await idp?.close(); });

  test('AADSTS65001 on the refresh grant; the refresh token survives; an interactive request records consent', async () => {
    const admin = treUser('admin');
    const { browser, body: signedIn } = await signInTo(idp, TRE, admin, SIGN_IN_SCOPE);

    const refused = await refresh(idp, TRE, signedIn.refresh_token, `${BETA}/user_impersonation`, { origin: APP_ORIGIN });
    assertConsentRequired(refused);
    assert.equal(refused.res.headers.get('access-control-allow-origin'), APP_ORIGIN, 'the app can read the error');
    assertConsentRequired(await refresh(idp, TRE, signedIn.refresh_token, `${BETA}/.default`));

    // The refresh token is neither spent nor revoked: the other APIs keep working with it.
    const alpha = await refresh(idp, TRE, signedIn.refresh_token, `${ALPHA}/user_impersonation`);
    assert.equal(alpha.res.status, 200, JSON.stringify(alpha.body));
    let refreshToken = alpha.body.refresh_token;

    // A silent authorization request cannot give consent.
    const { challenge } = pkce();
    const silent = await browser.follow(authorizeUrl(idp, {
      client_id: TRE.clientId,
      code_challenge: challenge,
      prompt: 'none',
      state: 'silent',
      scope: `openid offline_access ${BETA}/user_impersonation`,
    }), new URL(idp.issuer).origin);
    assert.ok(silent.left, 'back to the app');
    const fp = fragmentParams(silent.url);
    assert.equal(fp.get('error'), 'consent_required');
    assert.match(fp.get('error_description'), /^AADSTS65001: /);
    assert.equal(fp.get('state'), 'silent');
    assertConsentRequired(await refresh(idp, TRE, refreshToken, `${BETA}/user_impersonation`));

    // An interactive request for the API's scope (the session exists: no login form) consents.
    const r = await signIn(idp, browser, {
      expectLogin: false,
      params: { client_id: TRE.clientId, scope: `openid offline_access ${BETA}/user_impersonation` },
    });
    const code = await token(idp, {
      grant_type: 'authorization_code',
      client_id: TRE.clientId,
      code: r.code,
      redirect_uri: REDIRECT_URI,
      code_verifier: r.verifier,
    });
    assert.equal(code.res.status, 200, JSON.stringify(code.body));
    const beta = await verifyJwt(idp, code.body.access_token);
    assert.equal(beta.aud, TRE_WORKSPACE_BETA);
    assert.deepEqual(beta.roles, ['WorkspaceOwner']);

    // Now a silent request for beta succeeds as well.
    const again = await signIn(idp, browser, {
      expectLogin: false,
      params: { client_id: TRE.clientId, prompt: 'none', scope: `openid offline_access ${BETA}/user_impersonation` },
    });
    assert.ok(again.code, 'silent request answered with a code');

    // From now on the earlier refresh token (and its successors) get beta tokens too.
    const later = await refresh(idp, TRE, refreshToken, `${BETA}/user_impersonation`);
    assert.equal(later.res.status, 200, JSON.stringify(later.body));
    assert.equal((await verifyJwt(idp, later.body.access_token)).aud, TRE_WORKSPACE_BETA);
    refreshToken = later.body.refresh_token;
    assert.equal((await refresh(idp, TRE, refreshToken, `${BETA}/.default`)).res.status, 200);
  });

  test('consent is per user: others who consented get the API, with prompt=consent accepted too', async () => {
    const { body } = await signInTo(idp, TRE, treUser('user'), SIGN_IN_SCOPE, { prompt: 'consent' });
    const r = await refresh(idp, TRE, body.refresh_token, `${BETA}/user_impersonation`);
    assert.equal(r.res.status, 200, JSON.stringify(r.body));
  });

  test('prompt=consent on a first sign-in for the API records consent', async () => {
    const fresh = await startIdp({ port: 0, quiet: true, appOrigins: [APP_ORIGIN] });
    try {
      const admin = treUser('admin');
      const { body } = await signInTo(fresh, TRE, admin, `openid offline_access ${BETA}/user_impersonation`, { prompt: 'consent' });
      assert.equal((await verifyJwt(fresh, body.access_token)).aud, TRE_WORKSPACE_BETA);
      const core = await refresh(fresh, TRE, body.refresh_token, CORE);
      assert.equal(core.res.status, 200, JSON.stringify(core.body));
      const back = await refresh(fresh, TRE, core.body.refresh_token, `${BETA}/user_impersonation`);
      assert.equal(back.res.status, 200, JSON.stringify(back.body));
    } finally {
      await fresh.close();
    }
  });
});

describe('registration data', () => {
  const base = () => structuredClone(registrations);
  const tre = (list) => list.find((r) => r.name === 'Azure TRE');

  test('defaults: app ID URI, empty role maps and consent lists, profile fields', () => {
    const regs = normaliseRegistrations();
    const t = tre(regs);
    assert.equal(t.apis[0].appIdUri, ALPHA);
    assert.deepEqual(regs[0].apis, []);
    assert.deepEqual(regs[0].graph, { unconsented: [] });
    const nora = regs[0].users.find((u) => u.username.startsWith('norole'));
    assert.equal(nora.jobTitle, null);
    assert.equal(nora.photo, false);
  });

  test('typos and clashes are refused', () => {
    const cases = [
      ['unknown user in roles', (l) => { tre(l).apis[0].roles['nobody@tre.test'] = ['X']; }, /unknown user nobody@tre.test/],
      ['unknown user in unconsented', (l) => { tre(l).apis[1].unconsented.push('ghost@tre.test'); }, /unknown user ghost/],
      ['unknown user in graph', (l) => { tre(l).graph.unconsented = ['x@tre.test']; }, /unknown user x@tre.test/],
      ['API without scopes', (l) => { tre(l).apis[0].scopes = []; }, /no scopes/],
      ['API clashing with a registration', (l) => { tre(l).apis[0].appId = SB.apiAppId; }, /duplicate app ID URI/],
      ['API without app id', (l) => { delete tre(l).apis[0].appId; }, /missing appId/],
    ];
    for (const [what, mutate, error] of cases) {
      const list = base();
      mutate(list);
      assert.throws(() => normaliseRegistrations(list), error, what);
    }
  });

  test("the dev API's default TRE_WORKSPACES names these workspaces", () => {
    const rust = readFileSync(new URL('../api/src/workspaces.rs', import.meta.url), 'utf8');
    const fallback = /DEFAULT_TRE_WORKSPACES: &str =\s*"([^"]+)"/.exec(rust)?.[1];
    assert.equal(fallback, `alpha=${TRE_WORKSPACE_ALPHA},beta=${TRE_WORKSPACE_BETA}`);
    const workspaces = tre(normaliseRegistrations()).apis.map((a) => a.appId);
    assert.deepEqual(workspaces, [TRE_WORKSPACE_ALPHA, TRE_WORKSPACE_BETA]);
  });

  test('a registration may not declare Graph as one of its APIs', async () => {
    const list = base();
    tre(list).apis.push({ name: 'Graph again', appId: crypto.randomUUID(), appIdUri: 'https://graph.microsoft.com', scopes: ['User.Read'] });
    await assert.rejects(startIdp({ port: 0, quiet: true, registrations: list }), /duplicate app ID URI/);
  });
});

// The login page shows each user's roles on every API of the registration.
test('the login page lists workspace roles', async () => {
  const idp = await startIdp({ port: 0, quiet: true, appOrigins: [APP_ORIGIN] });
  try {
    const { challenge } = pkce();
    const page = await new Browser().follow(
      authorizeUrl(idp, { client_id: TRE.clientId, code_challenge: challenge, scope: SIGN_IN_SCOPE }),
      new URL(idp.issuer).origin,
    );
    const html = await page.res.text();
    assert.ok(html.includes('TREAdmin; TRE workspace alpha: WorkspaceOwner; TRE workspace beta: WorkspaceOwner'), html);
  } finally {
    await idp.close();
  }
});
