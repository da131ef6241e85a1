// Local development/test identity provider that behaves like a Microsoft Entra ID v2.0 tenant.
//
// Built on oidc-provider (panva). Run from the repository root:
//
//     node dev/idp/server.js
//
// or start it in-process:
//
//     import { startIdp } from './dev/idp/server.js';
//     const idp = await startIdp({ port: 0 });
//     ... idp.issuer ...
//     await idp.close();
//
// See dev/idp/README.md for endpoints, environment variables and the test users.

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { pathToFileURL } from 'node:url';

import Provider, { errors, interactionPolicy } from 'oidc-provider';

import {
  ACR_MFA, ACRS, amrFor, AUTH_CONTEXTS, createChallenges, normaliseAuthContexts, requestedAcr,
} from './challenges.js';
import { ConsentStore, SILENT_CONSENT_REQUIRED } from './consent.js';
import {
  accessTokenStaysBearer, DPOP_ALGS, dpopControl, dpopFeature, dpopFromEnv, normaliseDpop,
} from './dpop-server.js';
import { createGraph } from './graph.js';
import {
  entraRefreshGrant,
  RetainingMemoryAdapter,
  spaLifetimeGrant,
  spaRefreshTokenTtl,
  withRefreshTokenExpiresIn,
} from './refresh.js';
import {
  DEFAULT_TENANT,
  normaliseRegistrations,
  registrations as defaultRegistrations,
} from './registrations.js';
import { buildCatalogue, GRAPH, graphIssuer } from './resources.js';

const DEFAULT_PORT = 8090;
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_APP_ORIGINS = ['http://127.0.0.1:8080', 'http://localhost:8080'];
const DEFAULTS_TTL = {
  accessToken: 3600,
  idToken: 3600,
  refreshToken: 86400,
  session: 86400,
};

// Extra authorization parameter used internally: set by the HTTP front when the client asked
// for offline_access (see `rewriteAuthorizeQuery` and `loadExistingGrant`).
const OFFLINE_PARAM = 'x_gatehouse_offline_access';

const escapeHtml = (value) => String(value ?? '')
  .replace(/&/g, '&amp;')
  .replace(/</g, '&lt;')
  .replace(/>/g, '&gt;')
  .replace(/"/g, '&quot;')
  .replace(/'/g, '&#39;');

function envInt(name) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer (seconds), got ${JSON.stringify(raw)}`);
  }
  return value;
}

function envList(name) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Options as read from the environment (used by the CLI entry point). */
export function optionsFromEnv() {
  const port = process.env.IDP_PORT !== undefined && process.env.IDP_PORT !== ''
    ? Number(process.env.IDP_PORT) : undefined;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new Error(`IDP_PORT must be a port number, got ${JSON.stringify(process.env.IDP_PORT)}`);
  }
  return {
    port,
    tenant: process.env.IDP_TENANT || undefined,
    appOrigins: envList('IDP_APP_ORIGINS'),
    ttl: {
      accessToken: envInt('IDP_ACCESS_TOKEN_TTL'),
      idToken: envInt('IDP_ID_TOKEN_TTL'),
      refreshToken: envInt('IDP_REFRESH_TOKEN_TTL'),
      session: envInt('IDP_SESSION_TTL'),
    },
    dpop: dpopFromEnv(process.env.IDP_DPOP),
  };
}

function generateSigningKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const thumbprint = crypto.createHash('sha256')
    .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
    .digest('base64url');
  return { ...jwk, kid: thumbprint.slice(0, 27), alg: 'RS256', use: 'sig' };
}

function readBody(req, limit = 64 * 1024) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const PAGE_STYLE = `
  body{font-family:"Segoe UI",system-ui,-apple-system,sans-serif;background:#f2f2f2;margin:0;padding:40px 16px;color:#1b1b1b}
  .card{max-width:440px;margin:0 auto;background:#fff;padding:36px 44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
  .tenant{font-size:13px;color:#666;margin:0 0 8px}
  h1{font-size:24px;font-weight:600;margin:0 0 20px}
  label{display:block;font-size:14px;margin:12px 0 4px}
  input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:8px 6px;font-size:15px;border:0;border-bottom:1px solid #666;outline:none}
  input:focus{border-bottom-color:#0067b8}
  .buttons{display:flex;flex-direction:row-reverse;gap:8px;justify-content:flex-start;margin-top:24px}
  button{font-size:15px;padding:6px 20px;min-width:100px;border:0;cursor:pointer}
  button[type=submit].primary{background:#0067b8;color:#fff}
  button.secondary{background:#ccc;color:#1b1b1b}
  .error{color:#e81123;font-size:14px;margin:8px 0}
  .notice{background:#fff4ce;font-size:14px;margin:8px 0;padding:8px 10px}
  .hint{margin-top:28px;font-size:13px;color:#444}
  .hint table{border-collapse:collapse;width:100%}
  .hint td,.hint th{text-align:left;padding:2px 6px 2px 0;vertical-align:top}
  code{font-size:12px}
  pre{white-space:pre-wrap;word-break:break-word}
`;

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<div class="card">
${body}
</div>
</body>
</html>`;
}

/**
 * Shapes a Microsoft Graph access token as Entra issues it, also from its v2.0 endpoint: a v1.0
 * token with `aud` Graph's app id, the sts.windows.net issuer, `appid` instead of `azp`, and
 * `upn`/`unique_name` instead of `preferred_username`. Only the Graph emulation reads it.
 */
function shapeGraphToken(payload, {
  clientId, clientName, scp, user,
}) {
  payload.aud = GRAPH.appId;
  payload.iss = graphIssuer(payload.tid);
  payload.ver = '1.0';
  payload.appid = clientId;
  payload.appidacr = '0';
  if (clientName) payload.app_displayname = clientName;
  payload.idtyp = 'user';
  if (scp.length) payload.scp = scp.join(' ');
  if (user) {
    payload.oid = user.oid;
    payload.name = user.name;
    payload.upn = user.username;
    payload.unique_name = user.username;
  }
}

/**
 * oidc-provider's default interaction policy, with Entra's words for a silent authorization
 * request that asks for an API the user has not consented to (error=consent_required), and the
 * login page shown again for a step-up or an authentication context (challenges.js).
 */
function entraInteractionPolicy(challenges) {
  const policy = interactionPolicy.base();
  policy.get('consent').checks.get('rs_scopes_missing').description = SILENT_CONSENT_REQUIRED;
  policy.get('login').checks.push(...challenges.loginChecks());
  return policy;
}

/** The login page's roles column: the roles on the registration's API, then on its other APIs. */
function roleSummary(reg, user) {
  const parts = [user.roles.length ? user.roles.join(', ') : '(no roles)'];
  for (const api of reg?.apis ?? []) {
    const roles = Object.entries(api.roles)
      .find(([username]) => username.toLowerCase() === user.username.toLowerCase())?.[1] ?? [];
    if (roles.length) parts.push(`${api.name}: ${roles.join(', ')}`);
  }
  return parts.join('; ');
}

/**
 * Start the identity provider.
 *
 * @param {object} [options]
 * @param {number} [options.port] TCP port (0 = pick a free one). Default IDP_PORT or 8090.
 * @param {string} [options.host] Default 127.0.0.1.
 * @param {string} [options.tenant] Tenant GUID. Default IDP_TENANT or the fixed dev tenant.
 * @param {string[]} [options.appOrigins] SPA origins. Default IDP_APP_ORIGINS or
 *   http://127.0.0.1:8080,http://localhost:8080.
 * @param {{accessToken?:number,idToken?:number,refreshToken?:number,session?:number}} [options.ttl]
 *   Lifetimes in seconds. Defaults from IDP_*_TTL or 3600/3600/86400/86400.
 * @param {object[]} [options.registrations] Defaults to ./registrations.js.
 * @param {Record<string, {name?: string, silent: boolean}>} [options.authContexts] Conditional
 *   Access authentication contexts by id; defaults to AUTH_CONTEXTS in ./challenges.js (c1 silent,
 *   c2 needing a sign-in).
 * @param {boolean|{nonce?: 'always'|'optional'|'never'}} [options.dpop] Speak DPoP (RFC 9449);
 *   default IDP_DPOP or off (as Entra). `true` = `{ nonce: 'always' }`. See ./dpop-server.js.
 * @param {boolean} [options.quiet] Suppress the startup banner.
 * @returns {Promise<{issuer:string, port:number, tenant:string, discoveryUrl:string,
 *   registrations:object[], authContexts:object, dpop?:object, close:() => Promise<void>}>}
 */
export async function startIdp(options = {}) {
  const env = optionsFromEnv();
  const host = options.host ?? DEFAULT_HOST;
  const requestedPort = options.port ?? env.port ?? DEFAULT_PORT;
  const tenant = (options.tenant ?? env.tenant ?? DEFAULT_TENANT).toLowerCase();
  const appOrigins = (options.appOrigins ?? env.appOrigins ?? DEFAULT_APP_ORIGINS)
    .map((o) => new URL(o).origin);
  const ttl = {};
  for (const key of Object.keys(DEFAULTS_TTL)) {
    ttl[key] = options.ttl?.[key] ?? env.ttl[key] ?? DEFAULTS_TTL[key];
  }
  const regs = normaliseRegistrations(options.registrations ?? defaultRegistrations);
  const byClientId = new Map(regs.map((r) => [r.clientId, r]));
  const catalogue = buildCatalogue(regs);
  const consent = new ConsentStore(regs);
  const authContexts = normaliseAuthContexts(options.authContexts ?? AUTH_CONTEXTS);
  const challenges = createChallenges({ authContexts, catalogue, byClientId });
  const dpop = normaliseDpop(options.dpop ?? env.dpop);
  /** Whether an access token issued with a proof must still be a Bearer token (RFC 9449 §5). */
  const staysBearer = (token) => accessTokenStaysBearer(
    catalogue.get(token.resourceServer?.identifier()),
    byClientId.get(token.clientId),
  );

  const findUser = (reg, oid) => reg?.users.find((u) => u.oid === oid);
  const findUserAnywhere = (oid) => {
    for (const r of regs) {
      const u = findUser(r, oid);
      if (u) return u;
    }
    return undefined;
  };

  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(requestedPort, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address();
  const origin = `http://${host}:${port}`;
  const mount = `/${tenant}`;
  const issuer = `${origin}${mount}/v2.0`;
  const discoveryUrl = `${issuer}/.well-known/openid-configuration`;

  const signingKey = generateSigningKey();
  const graph = createGraph({
    origin,
    tenant,
    appOrigins,
    publicKey: crypto.createPublicKey(crypto.createPrivateKey({ key: signingKey, format: 'jwk' })),
    kid: signingKey.kid,
    findUser: findUserAnywhere,
    authorizeUrl: `${origin}${mount}/oauth2/v2.0/authorize`,
  });

  const clients = regs.map((r) => ({
    client_id: r.clientId,
    client_name: r.name,
    application_type: 'web',
    token_endpoint_auth_method: 'none',
    // Without refresh_token, oidc-provider drops offline_access from the client's requests.
    grant_types: r.refreshTokens ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
    response_types: ['code'],
    redirect_uris: appOrigins.map((o) => `${o}/oauth-callback`),
    post_logout_redirect_uris: appOrigins.map((o) => `${o}/`),
    id_token_signed_response_alg: 'RS256',
    // A DPoP registration's token requests must carry a proof (RFC 9449 §5.2).
    ...(dpop && r.dpop ? { dpop_bound_access_tokens: true } : {}),
  }));

  const renderLogin = (res, {
    uid, reg, login = '', error, notice, status = 200,
  }) => {
    const action = `${mount}/login/${encodeURIComponent(uid)}`;
    const users = reg?.users ?? [];
    const rows = users.map((u) => `<tr><td><code>${escapeHtml(u.username)}</code></td>`
      + `<td><code>${escapeHtml(u.password)}</code></td><td>${escapeHtml(u.name)}</td>`
      + `<td>${escapeHtml(roleSummary(reg, u))}</td></tr>`).join('\n');
    const body = `
<p class="tenant">Gatehouse dev tenant ${escapeHtml(tenant)}</p>
<h1>Sign in to ${escapeHtml(reg?.name ?? 'the application')}</h1>
${notice ? `<p class="notice" role="status">${escapeHtml(notice)}</p>` : ''}
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${escapeHtml(action)}" autocomplete="off">
  <label for="login">Username</label>
  <input type="text" id="login" name="login" value="${escapeHtml(login)}" placeholder="someone@example.test" autofocus required>
  <label for="password">Password</label>
  <input type="password" id="password" name="password" required>
  <div class="buttons">
    <!-- Sign in first in the markup: Enter submits a form with its first submit button. -->
    <button type="submit" class="primary">Sign in</button>
    <button type="submit" name="cancel" value="1" class="secondary" formnovalidate>Cancel</button>
  </div>
</form>
<div class="hint">
  <p>Development identity provider: test users for ${escapeHtml(reg?.name ?? '')}</p>
  <table><thead><tr><th>Username</th><th>Password</th><th>Name</th><th>Roles</th></tr></thead>
  <tbody>
${rows}
  </tbody></table>
</div>`;
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
    });
    res.end(page(`Sign in - ${reg?.name ?? 'Gatehouse dev IdP'}`, body));
  };

  const configuration = {
    // In memory, keeping expired refresh tokens a while (for AADSTS700084, see refresh.js).
    adapter: RetainingMemoryAdapter,
    clients,
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      id_token_signed_response_alg: 'RS256',
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    },
    jwks: { keys: [signingKey] },
    cookies: {
      keys: [crypto.randomBytes(32).toString('base64url')],
      long: { httpOnly: true, sameSite: 'lax', secure: false },
      short: { httpOnly: true, sameSite: 'lax', secure: false },
    },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: {
      // acr and auth_time in every ID token (oidc-provider adds them only when asked for).
      openid: ['sub', 'oid', 'tid', 'ver', 'roles', 'acr', 'auth_time'],
      profile: ['name', 'preferred_username'],
      email: ['email'],
      iss: null,
      sid: null,
    },
    conformIdTokenClaims: false,
    // Step-up (RFC 9470): the levels a sign-in can reach, and acr/auth_time in access tokens.
    acrValues: ACRS.map((a) => a.acr),
    extraTokenClaims: challenges.extraTokenClaims,
    responseTypes: ['code'],
    extraParams: {
      [OFFLINE_PARAM]: null,
      // Entra's claims requests ({"access_token":{…}}), which oidc-provider's claimsParameter
      // feature would refuse (it wants userinfo or id_token members): see challenges.js.
      claims: challenges.validateClaimsParameter,
    },
    routes: {
      authorization: '/oauth2/v2.0/authorize',
      token: '/oauth2/v2.0/token',
      end_session: '/oauth2/v2.0/logout',
      jwks: '/discovery/v2.0/keys',
      userinfo: '/oidc/userinfo',
    },
    pkce: { required: () => true },
    ...(dpop ? { enabledJWA: { dPoPSigningAlgValues: [...DPOP_ALGS] } } : {}),
    rotateRefreshToken: true,
    clientBasedCORS: (ctx, requestOrigin, client) => byClientId.has(client.clientId)
      && appOrigins.includes(requestOrigin),
    ttl: {
      AccessToken: ttl.accessToken,
      AuthorizationCode: 300,
      IdToken: ttl.idToken,
      // Like Entra SPA refresh tokens: rotation does not extend the original lifetime.
      RefreshToken: spaRefreshTokenTtl(ttl.refreshToken),
      Session: ttl.session,
      Interaction: 3600,
      Grant: Math.max(ttl.refreshToken, ttl.session) + 3600,
    },
    // Entra issues a refresh token whenever offline_access is requested (see OFFLINE_PARAM).
    issueRefreshToken: async (ctx, client, source) => client.grantTypeAllowed('refresh_token')
      && source.scopes.has('offline_access'),
    async findAccount(ctx, sub) {
      const reg = byClientId.get(ctx?.oidc?.client?.clientId);
      const user = findUser(reg, sub) ?? findUserAnywhere(sub);
      if (!user) return undefined;
      const roles = findUser(reg, sub)?.roles ?? [];
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            oid: user.oid,
            tid: tenant,
            ver: '2.0',
            name: user.name,
            preferred_username: user.username,
            email: user.email,
            ...(roles.length ? { roles: [...roles] } : {}),
          };
        },
      };
    },
    // Entra with admin consent: the user is never asked; the requested scopes are granted.
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const { accountId } = oidc.session;
      if (!accountId) return undefined;
      const grantId = oidc.result?.consent?.grantId
        || oidc.session.grantIdFor(oidc.client.clientId);
      let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
      if (grant && (grant.accountId !== accountId || grant.clientId !== oidc.client.clientId)) {
        grant = undefined;
      }
      if (!grant) {
        grant = new oidc.provider.Grant({ accountId, clientId: oidc.client.clientId });
      }
      if (oidc.params[OFFLINE_PARAM] === '1' && !oidc.requestParamScopes.has('offline_access')
        && oidc.client.grantTypeAllowed('refresh_token')) {
        // Undo oidc-provider's removal of offline_access (it only keeps it with prompt=consent);
        // the authorization code is built from these params afterwards.
        oidc.params.scope = [...oidc.requestParamScopes, 'offline_access'].join(' ');
      }
      const oidcScopes = [...oidc.requestParamOIDCScopes];
      if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
      // Claims named in a `claims` parameter's id_token or userinfo member (no consent page).
      const oidcClaims = [...oidc.requestParamClaims];
      if (oidcClaims.length) grant.addOIDCClaims(oidcClaims);
      // The authentication contexts and client capabilities of a `claims` parameter go into the
      // authorization code (challenges.js).
      challenges.grantAuthorizationClaims(ctx);
      // An interactive request stands for the user's consent to the APIs it asks for (this
      // provider shows no consent page); a silent one (prompt=none) leaves an API the user has
      // not consented to out of the grant, so that it fails with consent_required, as in Entra.
      const interactive = !oidc.prompts.has('none');
      for (const [indicator, resourceServer] of Object.entries(oidc.resourceServers)) {
        const wanted = [...oidc.requestParamScopes].filter((s) => resourceServer.scopes.has(s));
        if (!wanted.length) continue;
        if (!consent.has(oidc.client.clientId, accountId, indicator)) {
          if (!interactive) continue;
          consent.record(oidc.client.clientId, accountId, indicator);
        }
        grant.addResourceScope(indicator, wanted.join(' '));
      }
      await grant.save();
      return grant;
    },
    features: {
      devInteractions: { enabled: false },
      // Off by default, as in Entra; startIdp({ dpop }) switches it on (dpop-server.js).
      dPoP: dpopFeature(dpop),
      pushedAuthorizationRequests: { enabled: false },
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        async defaultResource(ctx, client, oneOf) {
          // A refresh token widened to several APIs (see refresh.js) and redeemed without a
          // `scope` serves the API it was first issued for.
          if (Array.isArray(oneOf)) return oneOf[0];
          if (oneOf) return oneOf;
          const found = catalogue.urisInScope(ctx.oidc.params.scope);
          if (found.length > 1) {
            throw new errors.InvalidScope(
              'scopes for more than one resource (API) were requested; request one API at a time',
              found.join(' '),
            );
          }
          return found[0];
        },
        useGrantedResource: async () => true,
        async getResourceServerInfo(ctx, resourceIndicator, client) {
          const resource = catalogue.get(resourceIndicator);
          if (!resource) throw new errors.InvalidTarget(`unknown resource ${resourceIndicator}`);
          if (!catalogue.allowedFor(byClientId.get(client?.clientId), resource)) {
            throw new errors.InvalidTarget(
              `the application has no permission on ${resource.name} (${resourceIndicator})`,
            );
          }
          return {
            scope: catalogue.resourceServerScope(resource),
            audience: resource.appId,
            accessTokenTTL: ttl.accessToken,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        // No confirmation page: the form (which carries the session's xsrf secret) submits itself.
        async logoutSource(ctx, form) {
          const autoForm = form.replace(
            '</form>',
            '<input type="hidden" name="logout" value="yes"/>'
            + '<noscript><button type="submit">Sign out</button></noscript></form>',
          );
          ctx.type = 'html';
          ctx.body = page('Signing out', `<h1>Signing out…</h1>${autoForm}
<script>document.getElementById('op.logoutForm').submit()</script>`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = page('Signed out', '<h1>You signed out of your account</h1>'
            + '<p>It\'s a good idea to close all browser windows.</p>');
        },
      },
    },
    formats: {
      customizers: {
        // Shape access tokens like Entra's: v2 tokens for the registrations' APIs (whose
        // accessTokenAcceptedVersion is 2), v1 tokens for Microsoft Graph.
        async jwt(ctx, token, jwt) {
          const resource = catalogue.get(token.resourceServer?.identifier());
          const { payload } = jwt;
          jwt.header = { typ: 'JWT' };
          const granted = String(payload.scope ?? '').split(' ').filter(Boolean);
          delete payload.scope;
          delete payload.client_id;
          payload.nbf = payload.iat;
          payload.tid = tenant;
          // A token that stays Bearer although its request had a proof is not bound (RFC 9449 §5);
          // grant responses then say token_type Bearer too (see EntraProvider below).
          if (payload.cnf?.jkt && staysBearer(token)) delete payload.cnf;
          const user = token.accountId ? findUserAnywhere(token.accountId) : undefined;
          if (resource?.kind === 'graph') {
            shapeGraphToken(payload, {
              clientId: token.clientId,
              clientName: byClientId.get(token.clientId)?.name,
              scp: catalogue.scpOf(resource, granted),
              user,
            });
            return;
          }
          payload.azp = token.clientId;
          payload.azpacr = '0';
          payload.ver = '2.0';
          if (!resource) return;
          payload.aud = resource.appId;
          const scp = catalogue.scpOf(resource, granted);
          if (scp.length) payload.scp = scp.join(' ');
          if (token.accountId) {
            payload.oid = token.accountId;
            if (user) {
              payload.name = user.name;
              payload.preferred_username = user.username;
            }
            // The app roles the user holds on this very API; Entra omits the claim when none.
            const roles = catalogue.rolesOf(resource, token.accountId);
            if (roles.length) payload.roles = roles;
          }
        },
      },
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      const rows = Object.entries(out)
        .map(([k, v]) => `<pre><strong>${escapeHtml(k)}</strong>: ${escapeHtml(v)}</pre>`).join('');
      ctx.body = page('Sign-in error', `<p class="tenant">Gatehouse dev tenant ${escapeHtml(tenant)}</p>
<h1>Sorry, but we're having trouble signing you in.</h1>
<div class="error">${rows}</div>`);
    },
    interactions: {
      policy: entraInteractionPolicy(challenges),
      url: (ctx, interaction) => `${mount}/login/${interaction.uid}`,
    },
  };

  // oidc-provider registers its grant handlers while it is constructed; this subclass wraps them
  // with Entra's rules as they are registered. For refresh_token, from the outside in: the
  // response says how long the refresh token has left; an expired one gets AADSTS700084; the
  // token request's `claims` (challenges.js); the multi-resource rules (refresh.js); then
  // oidc-provider's own grant. The code grant has the first and the third.
  // An access token issued with a proof but left unbound (staysBearer) is a Bearer token: the
  // response says so, while oidc-provider would say DPoP (its refresh token stays bound).
  const bearerWhereUnbound = (next) => async function tokenType(ctx) {
    const result = await next(ctx);
    const at = ctx.oidc.entities.AccessToken;
    if (ctx.body?.token_type === 'DPoP' && at && staysBearer(at)) ctx.body.token_type = 'Bearer';
    return result;
  };

  class EntraProvider extends Provider {
    registerGrantType(name, handler, params, ...rest) {
      let wrapped = handler;
      let parameters = params;
      if (name === 'refresh_token') {
        wrapped = entraRefreshGrant(wrapped, { byClientId, catalogue, consent });
      }
      if (name === 'refresh_token' || name === 'authorization_code') {
        wrapped = challenges.claimsGrant(wrapped, name === 'refresh_token' ? 'RefreshToken' : 'AuthorizationCode');
        parameters = new Set([...(params ?? []), 'claims']);
      }
      if (name === 'refresh_token') wrapped = spaLifetimeGrant(wrapped);
      if (name === 'refresh_token' || name === 'authorization_code') {
        wrapped = withRefreshTokenExpiresIn(wrapped);
        wrapped = bearerWhereUnbound(wrapped);
      }
      super.registerGrantType(name, wrapped, parameters, ...rest);
    }
  }
  const provider = new EntraProvider(issuer, configuration);
  // Entra always puts `sid` in ID tokens; oidc-provider only does so for clients registered
  // for back-channel logout with backchannel_logout_session_required.
  provider.Client.prototype.includeSid = function includeSid() { return true; };
  provider.on('server_error', (ctx, err) => {
    console.error('[idp] server_error', err);
  });
  const callback = provider.callback();
  const dpopHandle = dpop ? dpopControl(provider, dpop) : undefined;

  const handleInteraction = async (req, res, uid) => {
    let details;
    try {
      details = await provider.interactionDetails(req, res);
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(page('Sign-in error', `<h1>This sign-in request has expired or is invalid.</h1>
<p class="error">${escapeHtml(err.error_description || err.message)}</p>
<p>Go back to the application and sign in again.</p>`));
      return;
    }
    if (details.uid !== uid) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('interaction mismatch');
      return;
    }
    const reg = byClientId.get(details.params.client_id);

    if (details.prompt.name === 'consent') {
      // Normally unreachable (loadExistingGrant grants everything); grant admin-consent style.
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      const { missingOIDCScope, missingResourceScopes } = details.prompt.details;
      if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
      for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
        consent.record(details.params.client_id, details.session.accountId, indicator);
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } });
      return;
    }

    // A step-up: say why the page is shown (again) and fill in who is signed in.
    const acr = requestedAcr(details.params);
    const stepUp = ['acr_step_up', 'auth_context'].some((r) => details.prompt.reasons.includes(r));
    const contexts = challenges.interactiveContexts(details.params);
    const why = [
      ...(acr === ACR_MFA ? [`multi-factor authentication (${ACR_MFA})`] : []),
      ...contexts.map((c) => `the authentication context ${c.id} (${c.name})`),
    ];
    const notice = why.length
      ? `This sign-in requires ${why.join(' and ')}. This development IdP emulates it: `
        + 'sign in with your password, which counts as the second factor.'
      : undefined;
    const signedIn = stepUp ? findUser(reg, details.session?.accountId)?.username : undefined;
    if (req.method === 'GET') {
      renderLogin(res, {
        uid, reg, notice, login: details.params.login_hint ?? signedIn ?? '',
      });
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' });
      res.end();
      return;
    }
    const form = new URLSearchParams(await readBody(req));
    if (form.has('cancel')) {
      await provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'AADSTS50126: the user cancelled the sign-in.',
      }, { mergeWithLastSubmission: false });
      return;
    }
    const login = (form.get('login') ?? '').trim();
    const password = form.get('password') ?? '';
    const user = reg?.users.find((u) => u.username.toLowerCase() === login.toLowerCase());
    const ok = user && crypto.timingSafeEqual(
      crypto.createHash('sha256').update(password).digest(),
      crypto.createHash('sha256').update(user.password).digest(),
    );
    if (!ok) {
      renderLogin(res, {
        uid,
        reg,
        login,
        notice,
        error: 'Your account or password is incorrect.',
      });
      return;
    }
    await provider.interactionFinished(req, res, {
      login: {
        accountId: user.oid, acr, amr: amrFor(acr), remember: true,
      },
    }, { mergeWithLastSubmission: false });
  };

  const loginPath = new RegExp(`^${mount}/login/([A-Za-z0-9_-]+)$`);
  const authorizePath = `${mount}${configuration.routes.authorization}`;

  // Entra accepts prompt=select_account (treated here like prompt=login: the login form is shown
  // again). Entra also honours offline_access on every request, whereas oidc-provider strips
  // offline_access from the authorization request unless prompt=consent is present. The front
  // therefore records the request in an internal extra parameter, and loadExistingGrant puts
  // offline_access back into the request scope before the authorization code is created.
  const rewriteAuthorizeQuery = (url) => {
    const q = url.searchParams;
    q.delete(OFFLINE_PARAM);
    const prompts = (q.get('prompt') ?? '').split(' ').filter(Boolean)
      .map((p) => (p === 'select_account' ? 'login' : p));
    if (q.has('prompt')) q.set('prompt', [...new Set(prompts)].join(' '));
    const scopes = (q.get('scope') ?? '').split(' ');
    if (scopes.includes('offline_access') && !prompts.includes('consent')) {
      q.set(OFFLINE_PARAM, '1');
    }
    return `${url.pathname}?${q.toString()}`;
  };

  server.on('request', async (req, res) => {
    try {
      const url = new URL(req.url, origin);
      const path = url.pathname;
      if (path === '/_health') {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify({ status: 'ok', issuer }));
        return;
      }
      if (path.startsWith('/graph/')) {
        graph.handle(req, res, url);
        return;
      }
      const loginMatch = loginPath.exec(path);
      if (loginMatch) {
        await handleInteraction(req, res, loginMatch[1]);
        return;
      }
      if (path === `${mount}/v2.0/.well-known/openid-configuration`) {
        req.url = `${mount}/.well-known/openid-configuration${url.search}`;
      } else if (path === authorizePath && req.method === 'GET') {
        req.url = rewriteAuthorizeQuery(url);
      }
      if (req.url === mount || req.url.startsWith(`${mount}/`) || req.url.startsWith(`${mount}?`)) {
        req.originalUrl = req.url;
        req.url = req.url.slice(mount.length) || '/';
        callback(req, res);
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`not found; the issuer is ${issuer}\n`);
    } catch (err) {
      console.error('[idp] request failed', err);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      }
      res.end('internal error');
    }
  });

  const sockets = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  let closed;
  const close = () => {
    closed ??= new Promise((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections?.();
      for (const socket of sockets) socket.destroy();
    });
    return closed;
  };

  if (!options.quiet) {
    console.log(`IdP ready: ${issuer}`);
    console.log(describe({
      issuer, tenant, appOrigins, ttl, regs, graphUrl: graph.baseUrl, authContexts, dpop,
    }));
  }

  return {
    issuer,
    port,
    tenant,
    discoveryUrl,
    graphUrl: graph.baseUrl,
    appOrigins,
    ttl,
    registrations: regs,
    authContexts,
    dpop: dpopHandle,
    provider,
    close,
  };
}

function describe({
  issuer, tenant, appOrigins, ttl, regs, graphUrl, authContexts, dpop,
}) {
  const lines = [
    `  discovery: ${issuer}/.well-known/openid-configuration`,
    `  tenant:    ${tenant}`,
    `  origins:   ${appOrigins.join(', ')}`,
    `  graph:     ${graphUrl} (tokens for User.Read, aud ${GRAPH.appId})`,
    `  ttl (s):   access ${ttl.accessToken}, id ${ttl.idToken}, refresh ${ttl.refreshToken}, session ${ttl.session}`,
    `  acr:       ${ACRS.map((a) => a.acr).join(', ')}`,
    `  dpop:      ${dpop ? `on (${DPOP_ALGS.join(', ')}; nonces: ${dpop.nonce})` : 'off (as Entra)'}`,
    `  contexts:  ${Object.entries(authContexts).map(([id, c]) => `${id} (${c.name}, ${c.silent ? 'silent' : 'sign-in'})`).join(', ') || '(none)'}`,
  ];
  for (const r of regs) {
    const noRefresh = r.refreshTokens ? '' : ', no refresh tokens';
    const bound = { true: ', DPoP', 'refresh-token': ', DPoP (refresh token only)' }[r.dpop] ?? '';
    lines.push('', `  ${r.name}: client ${r.clientId}, API ${r.apiAppIdUri} (aud ${r.apiAppId}), scopes ${r.scopes.join(' ')}${noRefresh}${bound}`);
    for (const a of r.apis) {
      const missing = a.unconsented.length ? `; not consented by ${a.unconsented.join(', ')}` : '';
      lines.push(`    + ${a.name}: API ${a.appIdUri} (aud ${a.appId}), scopes ${a.scopes.join(' ')}${missing}`);
    }
    if (r.graph.unconsented.length) {
      lines.push(`    + Microsoft Graph: not consented by ${r.graph.unconsented.join(', ')}`);
    }
    const rows = [['username', 'password', 'name', 'roles']];
    for (const u of r.users) {
      rows.push([u.username, u.password, u.name, roleSummary(r, u)]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
    for (const row of rows) {
      lines.push(`    ${row.map((cell, i) => cell.padEnd(widths[i])).join('  ')}`.trimEnd());
    }
  }
  return lines.join('\n');
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  try {
    const idp = await startIdp();
    let stopping = false;
    const stop = (signal) => {
      if (stopping) return;
      stopping = true;
      console.log(`IdP stopping (${signal})`);
      const force = setTimeout(() => process.exit(0), 3000);
      force.unref();
      idp.close().then(() => process.exit(0));
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  } catch (err) {
    console.error(`IdP failed to start: ${err.message}`);
    process.exit(1);
  }
}
