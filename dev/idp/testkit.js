// Shared helpers of the development identity provider's tests: a minimal cookie-keeping browser,
// PKCE, the authorization request and sign-in, the token endpoint, and JWT checks.
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';

import { registrations } from './registrations.js';

export const SB = registrations.find((r) => r.name === 'StudyBuilder');
export const API_URI = `api://${SB.apiAppId}`;
export const APP_ORIGIN = 'http://127.0.0.1:8080';
export const REDIRECT_URI = `${APP_ORIGIN}/oauth-callback`;
export const SCOPE = `openid profile email offline_access ${API_URI}/API.call`;
export const TIMEOUT_MS = 5000;


export class Browser {
  constructor() { this.cookies = new Map(); }

  async fetch(url, { method = 'GET', form, headers = {} } = {}) {
    const h = { ...headers };
    if (this.cookies.size) {
      h.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    let body;
    if (form) {
      body = new URLSearchParams(form).toString();
      h['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(url, {
      method, headers: h, body, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const expired = attrs.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now())
        || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** Follow redirects until a non-redirect response or a redirect leaving `issuerOrigin`. */
  async follow(url, issuerOrigin, opts) {
    let res = await this.fetch(url, opts);
    for (let hops = 0; hops < 10; hops += 1) {
      if (res.status < 300 || res.status >= 400) return { res, url };
      const next = new URL(res.headers.get('location'), url).href;
      await res.arrayBuffer();
      if (new URL(next).origin !== issuerOrigin) return { res, url: next, left: true };
      url = next;
      res = await this.fetch(url);
    }
    throw new Error('too many redirects');
  }
}

export function pkce() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

export function authorizeUrl(idp, params = {}) {
  const url = new URL(`${new URL(idp.issuer).origin}/${idp.tenant}/oauth2/v2.0/authorize`);
  const p = {
    client_id: SB.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    response_mode: 'fragment',
    scope: SCOPE,
    state: crypto.randomBytes(8).toString('hex'),
    nonce: crypto.randomBytes(8).toString('hex'),
    code_challenge_method: 'S256',
    ...params,
  };
  for (const [k, v] of Object.entries(p)) if (v !== undefined) url.searchParams.set(k, v);
  return url.href;
}

export const fragmentParams = (url) => new URLSearchParams(new URL(url).hash.slice(1));

export function decodeJwt(jwt) {
  const [h, p, s] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url')),
    payload: JSON.parse(Buffer.from(p, 'base64url')),
    signingInput: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

export async function verifyJwt(idp, jwt) {
  const jwks = await (await fetch(`${new URL(idp.issuer).origin}/${idp.tenant}/discovery/v2.0/keys`,
    { signal: AbortSignal.timeout(TIMEOUT_MS) })).json();
  const t = decodeJwt(jwt);
  assert.equal(t.header.alg, 'RS256');
  const jwk = jwks.keys.find((k) => k.kid === t.header.kid);
  assert.ok(jwk, 'signing key published in JWKS');
  assert.equal(jwk.d, undefined, 'JWKS must not contain private key material');
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  assert.ok(crypto.verify('sha256', Buffer.from(t.signingInput), key, t.signature), 'signature valid');
  return t.payload;
}

/** Run the authorization request; sign in (unless the session already exists); return the code. */
export async function signIn(idp, browser, { username, password, params = {}, expectLogin = true } = {}) {
  const { challenge, verifier } = pkce();
  const state = crypto.randomBytes(8).toString('hex');
  const nonce = crypto.randomBytes(8).toString('hex');
  const origin = new URL(idp.issuer).origin;
  const start = authorizeUrl(idp, { code_challenge: challenge, state, nonce, ...params });
  let step = await browser.follow(start, origin);
  if (expectLogin) {
    assert.equal(step.res.status, 200);
    const html = await step.res.text();
    assert.match(html, /<input[^>]+name="login"/);
    assert.match(html, /<input[^>]+name="password"[^>]*type="password"|type="password"[^>]+name="password"/);
    assert.match(html, /Sign in<\/button>/);
    step = await browser.follow(step.url, origin, {
      method: 'POST', form: { login: username, password },
    });
  }
  assert.ok(step.left, `expected a redirect to the app, got ${step.res.status}`);
  assert.ok(step.url.startsWith(`${REDIRECT_URI}#`), `redirect to callback with fragment: ${step.url}`);
  const fp = fragmentParams(step.url);
  assert.equal(fp.get('state'), state);
  return { code: fp.get('code'), fragment: fp, verifier, nonce, state };
}

export async function token(idp, form, headers = {}) {
  const res = await fetch(`${new URL(idp.issuer).origin}/${idp.tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  return { res, body: await res.json() };
}

export async function redeem(idp, { code, verifier }, headers) {
  return token(idp, {
    grant_type: 'authorization_code',
    client_id: SB.clientId,
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
  }, headers);
}

/**
 * Signs `user` of registration `reg` in from a fresh browser, asking for `scope`, and redeems the
 * code. Returns the browser (holding the session) and the token response body.
 */
export async function signInTo(idp, reg, user, scope, params = {}) {
  const browser = new Browser();
  const r = await signIn(idp, browser, {
    username: user.username,
    password: user.password,
    params: { client_id: reg.clientId, scope, ...params },
  });
  const { res, body } = await token(idp, {
    grant_type: 'authorization_code',
    client_id: reg.clientId,
    code: r.code,
    redirect_uri: REDIRECT_URI,
    code_verifier: r.verifier,
  });
  assert.equal(res.status, 200, `${user.username}: ${JSON.stringify(body)}`);
  return { browser, body };
}

/** A refresh-token grant for `reg`'s client, asking for `scope` when given. */
export function refresh(idp, reg, refreshToken, scope, headers = {}) {
  return token(idp, {
    grant_type: 'refresh_token',
    client_id: reg.clientId,
    refresh_token: refreshToken,
    ...(scope === undefined ? {} : { scope }),
  }, headers);
}
