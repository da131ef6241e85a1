// Starts the whole Gatehouse stack for an end-to-end test, on 127.0.0.1 and free ports: the
// release build in dist/ served by Debian's nginx with the production configuration (written by
// deploy/entrypoint.sh from environment variables, strict CSP included), the local Entra-like
// identity provider, and the protected API binary.
//
// Every wait is bounded; `stop()` ends everything the stack started.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { registrations } from '../../dev/idp/registrations.js';
import { startIdp } from '../../dev/idp/server.js';
import { freePort, startNginx } from './nginx.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const DIST = process.env.GATEHOUSE_DIST ?? join(ROOT, 'dist');
const API_BIN = process.env.GATEHOUSE_API_BIN ?? join(ROOT, 'target/debug/gatehouse-api');

/** The StudyBuilder registration of the local IdP: the default the stack is configured for. */
export const STUDYBUILDER = registrations.find((r) => r.name === 'StudyBuilder');

/** Starts the API binary and waits (bounded) for its "API ready: <url>" line; `child` stops it. */
export function startApi(env) {
  if (!existsSync(API_BIN)) {
    throw new Error(`${API_BIN} is missing: build it with "cargo build -p gatehouse-api"`);
  }
  const child = spawn(API_BIN, [], {
    env: { ...process.env, API_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => {
      child.kill();
      fail(new Error(`API did not start within 20 s:\n${output}`));
    }, 20_000);
    const onData = (chunk) => {
      output += chunk;
      const match = /API ready: (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        ok({ url: match[1], child });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => { output += c; });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`API exited with ${code}:\n${output}`));
    });
  });
}

/**
 * Starts the stack. `ttl` sets IdP token lifetimes in seconds; `config` overrides config.json keys
 * (passed to the entrypoint as environment variables, as an operator would), or is a function of
 * `{ idp, apiUrl }` returning them (for keys that name the running servers); `registration`
 * ({ clientId, apiAppId }) picks the IdP's app registration the app and API are configured for;
 * `dist` the build nginx serves (the benchmark compares builds); `sandbox` serves it as the
 * read-only, unprivileged container and `precompressed: false` without the build's brotli and
 * gzip copies (see nginx.js); `dpop` makes the IdP speak DPoP (`startIdp({ dpop })`) and
 * `apiEnv` adds to the API's environment (`API_DPOP_NONCE`).
 * Returns URLs, the IdP handle, the effective `config` and `stop()`.
 */
export async function startStack({ ttl = {}, config = {}, registration = STUDYBUILDER, dist = DIST, sandbox = false, precompressed = true, dpop, apiEnv = {} } = {}) {
  if (!existsSync(join(dist, 'index.html'))) {
    throw new Error(`${dist}/index.html is missing: run "trunk build --release" first`);
  }
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  const idp = await startIdp({ port: 0, appOrigins: [appUrl], ttl, quiet: true, ...(dpop ? { dpop } : {}) });
  const metadataUrl = `${idp.issuer}/.well-known/openid-configuration?appid=${registration.apiAppId}`;
  const cleanup = [() => idp.close()];
  const stop = async () => {
    for (const step of cleanup.reverse()) await step();
  };
  try {
    const api = await startApi({
      OAUTH_METADATA_URL: metadataUrl,
      OAUTH_API_APP_ID: registration.apiAppId,
      API_CORS_ORIGINS: appUrl,
      ...apiEnv,
    });
    cleanup.push(() => api.child.kill('SIGTERM'));
    const effective = {
      OAUTH_ENABLED: 'true',
      OAUTH_METADATA_URL: metadataUrl,
      OAUTH_UI_APP_ID: registration.clientId,
      OAUTH_API_APP_ID: registration.apiAppId,
      OAUTH_SCOPES: 'API.call',
      API_BASE_URL: api.url,
      API_NAME: 'the StudyBuilder API (test)',
      // The StudyBuilder views of the default configuration.
      VIEWS: JSON.parse(readFileSync(join(ROOT, 'public/config.json'), 'utf8')).VIEWS,
      ...(typeof config === 'function' ? config({ idp, apiUrl: api.url }) : config),
    };
    const env = Object.fromEntries(
      Object.entries(effective).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
    );
    const web = await startNginx({ dist, env, port, sandbox, precompressed });
    cleanup.push(() => web.stop());
    return { appUrl, apiUrl: api.url, idp, config: effective, web, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
