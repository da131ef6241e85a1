// An independent OpenID Connect provider for the interop test tier: Glewlwyd (Debian's package,
// /usr/bin/glewlwyd, 2.7.5) configured from scratch on every start, as an operator would for
// Gatehouse.
//
//   const idp = await startGlewlwyd({ appOrigins: [appUrl], redirectUris: [`${appUrl}/`],
//                                     postLogoutRedirectUris: [`${appUrl}/`] });
//   // OAUTH_METADATA_URL=idp.metadataUrl, OAUTH_UI_APP_ID=idp.clientId, scope idp.apiScope
//   await idp.signIn(page, idp.users.reader);  // on Glewlwyd's login page; ends on the redirect URI
//   await idp.signOut(page);                   // on Glewlwyd's end-session page; ends on the
//                                              // post-logout redirect URI
//   await idp.stop();
//
// Each start has its own temporary directory: a glewlwyd.conf, a sqlite3 database built from the
// package's schema (/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3, with the sqlite3
// program the package depends on), a copy of the package's login web app, and an RSA key made
// with node:crypto. Glewlwyd listens on 127.0.0.1 and a free port. Everything else goes through its
// admin REST API (/usr/share/doc/glewlwyd/API.md.gz, OIDC.md.gz), signed in as the schema's
// admin/password, whose password is then replaced by a random one. Nothing is written to /etc or
// the package's folders. Every wait is bounded; `stop()` (or the process' exit) ends Glewlwyd and
// removes the directory.
//
// What the provider offers, and why the settings that are not obvious are there:
// - Issuer http://127.0.0.1:<port>/api/oidc (the plugin instance is named "oidc"), discovery at
//   <issuer>/.well-known/openid-configuration, RS256 ID and access tokens (JWTs, typ at+jwt).
// - The web app is copied, not served from /usr/share/glewlwyd/webapp: the package's config.json
//   there is a symlink to /etc/glewlwyd/config-2.7.json, which Debian ships as a directory, and
//   Glewlwyd's static file server refuses files whose real path leaves `static_files_path`. The
//   copy gets the small config.json written here.
// - `allow_origin` (glewlwyd.conf) is Glewlwyd's only CORS setting: one fixed
//   Access-Control-Allow-Origin value on every response (with Allow-Credentials: true), not an
//   echo of the request's Origin. With one app origin it is that origin; with several, "*".
// - The user database backend stores only the properties its `data-format` lists, so `roles` is
//   added there (multiple values); the client backend gets `post_logout_redirect_uris` (plural,
//   multiple): that is the property the OIDC plugin's end_session checks, while the package's
//   default data-format has only a singular `post_logout_redirect_uri`. A backend's new
//   data-format applies after a `reset` of the backend.
// - Roles: `claims` (OIDC plugin) maps the `roles` user property to a mandatory `roles` claim, a
//   JSON array in the ID token and userinfo. Access tokens get user properties only through
//   `additional-parameters`, and Glewlwyd 2.7 joins a multi-valued property with commas there:
//   the access token's `roles` is the string "Study.Read,Library.Read", not an array.
// - `pkce-allowed` + `pkce-required-public-client`: a public client must send an S256
//   code_challenge (plain is refused). Discovery lists S256; it only says `require_code_challenge`
//   when PKCE is required of every client (`pkce-required`).
// - Refresh tokens: one comes with every code redemption (Glewlwyd ignores offline_access; the
//   client needs the `refresh_token` authorization type). `refresh-token-one-use: always` rotates
//   it on every refresh; a used one is refused and, replayed, disables the newest of its chain.
//   Refresh responses carry no ID token.
// - `session-management-allowed` publishes end_session_endpoint. Glewlwyd's end_session does not
//   redirect back at once: it shows its login app, which asks the user to confirm ("Logout",
//   clicked by `signOut(page)`) and then goes to `<post_logout_redirect_uri>?state=<state>` (the
//   state appended as given, not URL-encoded: use URL-safe states). That page needs
//   `front-channel-logout-allowed`, or it gets a 400 from /api/oidc/session/<sid>/<client> and
//   stays put (no client here has a frontchannel_logout_uri, so no logout iframes load). The
//   id_token_hint only has to be an ID token Glewlwyd issued and has not disabled (its exp is not
//   checked). The sign-out revokes the session's tokens found through its codes' refresh tokens
//   that are still enabled: a code's unused refresh token and its access tokens are revoked, but
//   a rotated refresh token (stored without its code) and its access tokens outlive the sign-out.
// - Glewlwyd shows its login app on every authorization request without prompt=none, even when
//   its session cookie already names the user (then only "Continue" is clicked by `signIn`).
// - `oauth-as-iss-id` adds `iss` (RFC 9207) to authorization responses, though discovery does not
//   advertise `authorization_response_iss_parameter_supported`.
// - Audience: an access token's `aud` is the granted scope list (one space-separated string)
//   unless the authorization request names a resource (RFC 8707): `resource-allowed` and
//   `resource-scope` let the API scope be asked with resource=<apiAudience>, which becomes `aud`
//   (and stays through refreshes). Glewlwyd accepts only https:// or loopback http:// URIs as
//   resources, so the API's bare id ("gatehouse-api") cannot be one: apiAudience is
//   "https://gatehouse-api".
// - The API scope is Gatehouse's default form, "api://gatehouse-api/API.call": Glewlwyd takes any
//   scope name up to 128 characters, and its login app's grant request
//   (/api/auth/grant/<client>/<scopes>, slashes escaped) works with it.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from '../e2e/nginx.js';

export const GLEWLWYD_BIN = process.env.GLEWLWYD_BIN ?? '/usr/bin/glewlwyd';
const SCHEMA = '/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3';
const MODULES = '/usr/lib/glewlwyd';
const WEBAPP = '/usr/share/glewlwyd/webapp';
const SQLITE3 = '/usr/bin/sqlite3';

export const CLIENT_ID = 'gatehouse-spa';
export const API_ID = 'gatehouse-api';
/** The API scope, as Gatehouse forms it by default: `api://<OAUTH_API_APP_ID>/<scope>`. */
export const API_SCOPE = `api://${API_ID}/API.call`;
/** The access token's `aud` when the authorization request says resource=<this>. */
export const API_AUDIENCE = `https://${API_ID}`;
/** The OIDC plugin instance's name: its endpoints are under /api/<name>/. */
const PLUGIN = 'oidc';
const SCOPES = ['openid', 'profile', 'email', 'offline_access', API_SCOPE];
const START_TIMEOUT_MS = 20_000;
const UI_TIMEOUT_MS = 15_000;

const USERS = [
  { username: 'reader', name: 'Rita Reader', email: 'reader@gatehouse.test', roles: ['Study.Read', 'Library.Read'] },
  {
    username: 'author',
    name: 'Arthur Author',
    email: 'author@gatehouse.test',
    roles: ['Study.Read', 'Study.Write', 'Library.Read', 'Library.Write'],
  },
];

const running = new Set();
process.once('exit', () => {
  // Last resort if a test forgot stop().
  for (const { child, dir } of running) {
    try { child?.kill('SIGKILL'); } catch { /* already gone */ }
    try { rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
});

/** The installed package's version (e.g. 2.7.5-3+deb12u1), else the binary's `--version`. */
function glewlwydVersion() {
  const dpkg = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'glewlwyd'], { encoding: 'utf8', timeout: 5_000 });
  if (dpkg.status === 0 && dpkg.stdout.trim()) return dpkg.stdout.trim();
  const bin = spawnSync(GLEWLWYD_BIN, ['--version'], { encoding: 'utf8', timeout: 5_000 });
  return `${bin.stdout ?? ''}${bin.stderr ?? ''}`.trim().split('\n').pop();
}

/** glewlwyd.conf (libconfig syntax; its strings take JSON's escapes). */
function configFile({ port, dir, allowOrigin }) {
  const q = (s) => JSON.stringify(String(s));
  const mime = {
    '.html': 'text/html', '.css': 'text/css', '.js': 'application/javascript', '.json': 'application/json',
    '.png': 'image/png', '.ico': 'image/x-icon', '.svg': 'image/svg+xml', '.ttf': 'font/ttf',
    '.woff': 'font/woff', '.woff2': 'font/woff2', '.eot': 'application/vnd.ms-fontobject', '.map': 'application/json',
  };
  return `# Written by tests/interop/glewlwyd.js for one test run.
port=${port}
bind_address=${q('127.0.0.1')}
external_url=${q(`http://127.0.0.1:${port}`)}
login_url=${q('login.html')}
api_prefix=${q('api')}
static_files_path=${q(join(dir, 'webapp'))}
static_files_mime_types=(
${Object.entries(mime).map(([ext, type]) => `  { extension=${q(ext)} mime_type=${q(type)} }`).join(',\n')}
)
allow_origin=${q(allowOrigin)}
log_mode=${q('console')}
log_level=${q(process.env.GLEWLWYD_LOG_LEVEL ?? 'INFO')}
cookie_secure=0
admin_session_authentication=${q('cookie')}
user_module_path=${q(`${MODULES}/user`)}
client_module_path=${q(`${MODULES}/client`)}
user_auth_scheme_module_path=${q(`${MODULES}/scheme`)}
plugin_module_path=${q(`${MODULES}/plugin`)}
hash_algorithm=${q('SHA512')}
database={
  type=${q('sqlite3')}
  path=${q(join(dir, 'glewlwyd.db'))}
}
`;
}

/** The login web app's config.json: the package's keys that the login page reads. */
const WEBAPP_CONFIG = {
  GlewlwydUrl: './',
  ProfileUrl: 'profile.html',
  AdminUrl: 'index.html',
  LoginUrl: 'login.html',
  CallbackPage: 'callback.html',
  PasswordMinLength: 8,
  lang: ['en'],
  pattern: { user: [], client: [] },
  defaultScheme: '',
  sessionSchemes: [],
  register: [],
};

/** The OIDC plugin instance's parameters (see the module comment for the reasons). */
function oidcParameters({ issuer, jwks }) {
  return {
    iss: issuer,
    'oauth-as-iss-id': true,
    'jwks-private': JSON.stringify(jwks),
    'default-kid': jwks.keys[0].kid,
    'jwks-show': true,
    'subject-type': 'public',
    'allowed-scope': SCOPES,
    'access-token-duration': 3600,
    'refresh-token-duration': 1_209_600,
    'code-duration': 600,
    'refresh-token-rolling': true,
    'refresh-token-one-use': 'always',
    'allow-non-oidc': false,
    'auth-type-code-enabled': true,
    'auth-type-code-revoke-replayed': true,
    'auth-type-token-enabled': false,
    'auth-type-id-token-enabled': true,
    'auth-type-none-enabled': false,
    'auth-type-password-enabled': false,
    'auth-type-client-enabled': false,
    'auth-type-device-enabled': false,
    'auth-type-refresh-enabled': true,
    scope: [],
    'additional-parameters': [{ 'user-parameter': 'roles', 'token-parameter': 'roles' }],
    claims: [
      { name: 'roles', 'user-property': 'roles', type: 'string', mandatory: true, 'on-demand': false, scope: [] },
      { name: 'preferred_username', 'user-property': 'username', type: 'string', mandatory: false, 'on-demand': true, scope: ['profile'] },
    ],
    'name-claim': 'on-demand',
    'name-claim-scope': ['profile'],
    'email-claim': 'on-demand',
    'email-claim-scope': ['email'],
    'scope-claim': 'no',
    'address-claim': { type: 'no', mandatory: false },
    'request-parameter-allow': false,
    'pkce-allowed': true,
    'pkce-method-plain-allowed': false,
    'pkce-required': false,
    'pkce-required-public-client': true,
    'introspection-revocation-allowed': false,
    'register-client-allowed': false,
    'session-management-allowed': true,
    'session-cookie-name': 'GLEWLWYD2_OIDC_SID',
    'session-cookie-expiration': 2_419_200,
    'front-channel-logout-allowed': true,
    'back-channel-logout-allowed': false,
    'encrypt-out-token-allow': false,
    'oauth-dpop-allowed': false,
    'resource-allowed': true,
    'resource-scope': { [API_SCOPE]: [API_AUDIENCE] },
    'resource-client-property': '',
    'resource-scope-and-client-property': false,
    'oauth-rar-allowed': false,
    'oauth-par-allowed': false,
    'oauth-ciba-allowed': false,
    'oauth-fapi-allow-jarm': false,
  };
}

/** Waits for Glewlwyd's "started" line and a 200 from /config, until `deadline`. */
async function waitReady(child, url, log, deadline) {
  let exited = null;
  child.once('exit', (code, signal) => { exited = signal ?? code; });
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`Glewlwyd exited (${exited}) while starting`);
    if (/Glewlwyd started on port/.test(log())) {
      try {
        const res = await fetch(`${url}/config`, { signal: AbortSignal.timeout(2_000) });
        if (res.ok) return;
      } catch { /* not yet */ }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Glewlwyd did not start within ${START_TIMEOUT_MS / 1000} s`);
}

/** A small client for Glewlwyd's admin API, with the admin's session cookie, until `deadline`. */
function adminApi(url, deadline) {
  let cookie = '';
  return async (method, path, body) => {
    const res = await fetch(`${url}/api${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...(cookie ? { Cookie: cookie } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Glewlwyd's admin API answered ${method} ${path} with ${res.status}: ${text}`);
    const set = res.headers.getSetCookie().find((c) => c.startsWith('GLEWLWYD2_SESSION_ID='));
    if (set) cookie = set.split(';')[0];
    return text ? JSON.parse(text) : null;
  };
}

/**
 * Starts Glewlwyd with one OIDC plugin instance, the public client `gatehouse-spa` and the users
 * `reader` and `author` (in `users`, keyed by username: { username, password, name, email,
 * roles }, passwords new on every start). `appOrigins` are the origins CORS allows,
 * `redirectUris` and `postLogoutRedirectUris` are registered on the client as given (exact match).
 * Bounded: 20 s, with Glewlwyd's log in the error.
 */
export async function startGlewlwyd({ appOrigins = [], redirectUris = [], postLogoutRedirectUris = [] } = {}) {
  if (!existsSync(GLEWLWYD_BIN)) {
    throw new Error(`${GLEWLWYD_BIN} is missing: run scripts/setup (it installs Debian's glewlwyd package)`);
  }
  for (const path of [SCHEMA, WEBAPP, SQLITE3]) {
    if (!existsSync(path)) throw new Error(`${path} is missing: run scripts/setup (Debian's glewlwyd package brings it)`);
  }
  if (!redirectUris.length) throw new Error('startGlewlwyd: give at least one redirect URI');

  const deadline = Date.now() + START_TIMEOUT_MS;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const issuer = `${url}/api/${PLUGIN}`;
  const metadataUrl = `${issuer}/.well-known/openid-configuration`;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-glewlwyd-'));
  const handle = { child: null, dir };
  running.add(handle);
  let output = '';
  const log = () => output;

  const stop = async () => {
    const { child } = handle;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((ok) => child.once('exit', ok));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    running.delete(handle);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // The database, from the package's schema.
    const db = spawnSync(SQLITE3, [join(dir, 'glewlwyd.db'), `.read ${SCHEMA}`], { encoding: 'utf8', timeout: 10_000 });
    if (db.status !== 0) throw new Error(`sqlite3 could not build the database (${db.status ?? db.error}): ${db.stderr}`);

    // The login web app, with its own config.json.
    cpSync(WEBAPP, join(dir, 'webapp'), {
      recursive: true,
      dereference: true,
      filter: (source) => source !== join(WEBAPP, 'config.json'),
    });
    writeFileSync(join(dir, 'webapp/config.json'), JSON.stringify(WEBAPP_CONFIG, null, 2));

    const allowOrigin = appOrigins.length === 1 ? appOrigins[0] : '*';
    writeFileSync(join(dir, 'glewlwyd.conf'), configFile({ port, dir, allowOrigin }));

    const child = spawn(GLEWLWYD_BIN, ['-c', join(dir, 'glewlwyd.conf')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    handle.child = child;
    child.stdout.on('data', (c) => { output += c; });
    child.stderr.on('data', (c) => { output += c; });
    await waitReady(child, url, log, deadline);

    const api = adminApi(url, deadline);
    await api('POST', '/auth/', { username: 'admin', password: 'password' });

    // Backends: store users' roles and clients' post-logout redirect URIs.
    const userMod = await api('GET', '/mod/user/database');
    userMod.parameters['data-format'].roles = { multiple: true, read: true, write: true, 'profile-read': true, 'profile-write': false };
    await api('PUT', '/mod/user/database', userMod);
    await api('PUT', '/mod/user/database/reset');
    const clientMod = await api('GET', '/mod/client/database');
    clientMod.parameters['data-format'].post_logout_redirect_uris = { multiple: true, read: true, write: true };
    await api('PUT', '/mod/client/database', clientMod);
    await api('PUT', '/mod/client/database/reset');

    // Scopes (openid comes with the schema): the password is enough for each.
    for (const [name, description] of [
      ['profile', 'Your name'],
      ['email', 'Your e-mail address'],
      ['offline_access', 'Stay signed in'],
      [API_SCOPE, 'Call the Gatehouse API'],
    ]) {
      await api('POST', '/scope/', { name, display_name: name, description, password_required: true, password_max_age: 0, scheme: {} });
    }

    // The OIDC plugin instance, signing with a fresh RSA key (RS256).
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: `gatehouse-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' };
    await api('POST', '/mod/plugin/', {
      module: 'oidc',
      name: PLUGIN,
      display_name: 'OpenID Connect',
      parameters: oidcParameters({ issuer, jwks: { keys: [jwk] } }),
      order_rank: 0,
      enabled: true,
    });

    // The app: a public client (no secret) with the code and refresh token grants.
    await api('POST', '/client/', {
      client_id: CLIENT_ID,
      name: 'Gatehouse',
      description: 'Gatehouse single-page app',
      enabled: true,
      confidential: false,
      scope: [],
      redirect_uri: redirectUris,
      post_logout_redirect_uris: postLogoutRedirectUris,
      authorization_type: ['code', 'refresh_token'],
      token_endpoint_auth_method: ['none'],
    });

    // The users, each allowed every scope (a user can only grant the scopes it has).
    const users = {};
    for (const user of USERS) {
      const password = `pw-${randomBytes(9).toString('base64url')}`;
      await api('POST', '/user/', { ...user, password, enabled: true, scope: SCOPES });
      users[user.username] = { ...user, password };
    }

    // The schema's admin/password has served: nobody else gets to use it.
    await api('PUT', '/user/admin', { password: randomBytes(18).toString('base64url') });
    await api('DELETE', '/auth/');

    const res = await fetch(metadataUrl, { signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) });
    if (!res.ok) throw new Error(`${metadataUrl} answered ${res.status}: ${await res.text()}`);

    return {
      url,
      issuer,
      metadataUrl,
      clientId: CLIENT_ID,
      apiId: API_ID,
      apiAudience: API_AUDIENCE,
      apiScope: API_SCOPE,
      users,
      version: glewlwydVersion(),
      log,
      signIn,
      signOut,
      stop,
    };
  } catch (e) {
    await stop();
    e.message += `\nGlewlwyd's log:\n${output || '(empty)'}`;
    throw e;
  }
}

/**
 * On Glewlwyd's login page (after an authorization request): signs `user` in with their password,
 * grants the requested scopes to the client when Glewlwyd asks, and continues, so the browser
 * lands on the redirect URI. When Glewlwyd's session already names `user`, only "Continue" is
 * clicked (another user's session is an error). Bounded: 15 s for the whole.
 */
export async function signIn(page, user) {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  const left = () => Math.max(1, deadline - Date.now());
  const onLogin = () => new URL(page.url()).pathname.endsWith('/login.html');
  await page.waitForURL((u) => u.pathname.endsWith('/login.html'), { timeout: left() });

  const password = page.locator('#password');
  const greeting = page.locator('h4', { hasText: /^Hello / });
  await Promise.race([
    password.waitFor({ state: 'visible', timeout: left() }),
    greeting.waitFor({ state: 'visible', timeout: left() }),
  ]);
  if (await password.isVisible()) {
    const username = page.locator('#username');
    if (await username.isEditable()) await username.fill(user.username, { timeout: left() });
    else assert.equal(await username.inputValue(), user.username, 'Glewlwyd asks for the password of another user');
    await password.fill(user.password, { timeout: left() });
    await page.locator('#loginbut').click({ timeout: left() });
  } else {
    assert.equal(await greeting.textContent(), `Hello ${user.name}`, "Glewlwyd's session is another user's");
  }

  // Then, until the browser leaves the login app: the consent form ("Client access grant": tick
  // every scope, "Grant access"), then "Continue" (shown beside an unanswered consent form too,
  // where it would go on with only the scopes already granted: the form comes first).
  const grant = page.locator('button.btn-primary', { hasText: 'Grant access' });
  const proceed = page.locator('button.btn-success', { hasText: 'Continue' });
  const leave = page.waitForURL((u) => !u.pathname.endsWith('/login.html'), { timeout: left() }).catch(() => {});
  while (onLogin()) {
    if (Date.now() >= deadline) throw new Error(`signIn(${user.username}): still on ${page.url()} after ${UI_TIMEOUT_MS / 1000} s`);
    await Promise.race([
      grant.waitFor({ state: 'visible', timeout: left() }),
      proceed.waitFor({ state: 'visible', timeout: left() }),
      leave,
    ]).catch(() => {});
    if (!onLogin()) break;
    if (await grant.isVisible()) {
      for (const box of await page.locator('input[type=checkbox][id^="grant-"]').all()) {
        if (!(await box.isChecked())) await box.check({ timeout: left() });
      }
      await grant.click({ timeout: left() });
      await grant.waitFor({ state: 'hidden', timeout: left() });
    } else if (await proceed.isVisible()) {
      await proceed.click({ timeout: left() });
      await leave;
    }
  }
}

/**
 * On Glewlwyd's end-session page (where its end_session_endpoint sends the browser when given a
 * valid id_token_hint): confirms with "Logout", after which Glewlwyd ends its session and goes to
 * the post-logout redirect URI. Bounded: 15 s.
 */
export async function signOut(page) {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  const left = () => Math.max(1, deadline - Date.now());
  await page.waitForURL((u) => u.pathname.endsWith('/login.html'), { timeout: left() });
  await page.locator('h3', { hasText: 'End session' }).waitFor({ state: 'visible', timeout: left() });
  await Promise.all([
    page.waitForURL((u) => !u.pathname.endsWith('/login.html'), { timeout: left() }),
    page.locator('button.btn-danger', { hasText: 'Logout' }).first().click({ timeout: left() }),
  ]);
}
