// Starts the whole Gatehouse stack for an end-to-end test, on 127.0.0.1 and free ports:
// the release build in dist/ behind a small static server (SPA fallback, runtime config.json),
// the local Entra-like identity provider, and the protected API binary.
//
// Every wait is bounded; `stop()` ends everything the stack started.

import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, resolve } from 'node:path';

import { startIdp } from '../../dev/idp/server.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const DIST = process.env.GATEHOUSE_DIST ?? join(ROOT, 'dist');
const API_BIN = process.env.GATEHOUSE_API_BIN ?? join(ROOT, 'target/debug/gatehouse-api');

export const STUDYBUILDER = {
  clientId: '5d2a8f4c-9e1b-4a7d-8c3f-6b0e2d9a1c57',
  apiAppId: 'd3e62185-f259-4d5b-8a8c-a9134fd34d47',
};

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** Serves `dist/` like the production nginx: files as they are, app routes fall back to index.html. */
function startStaticServer(getConfig) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/config.json') {
      res.writeHead(200, { 'content-type': MIME['.json'], 'cache-control': 'no-store' });
      res.end(JSON.stringify(getConfig()));
      return;
    }
    const file = join(DIST, decodeURIComponent(url.pathname));
    const inside = file.startsWith(DIST);
    if (inside && existsSync(file) && statSync(file).isFile()) {
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
      createReadStream(file).pipe(res);
    } else if (extname(url.pathname) === '') {
      res.writeHead(200, { 'content-type': MIME['.html'], 'cache-control': 'no-store' });
      createReadStream(join(DIST, 'index.html')).pipe(res);
    } else {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok(server));
  });
}

/** Starts the API binary and waits (bounded) for its "API ready: <url>" line. */
function startApi(env) {
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
 * Starts the stack. `ttl` sets IdP token lifetimes in seconds; `config` overrides config.json keys.
 * Returns URLs, the IdP handle, a mutable `config` and `stop()`.
 */
export async function startStack({ ttl = {}, config = {} } = {}) {
  if (!existsSync(join(DIST, 'index.html'))) {
    throw new Error(`${DIST}/index.html is missing: run "trunk build --release" first`);
  }
  const state = { config: {} };
  const web = await startStaticServer(() => state.config);
  const appUrl = `http://127.0.0.1:${web.address().port}`;
  const idp = await startIdp({ port: 0, appOrigins: [appUrl], ttl, quiet: true });
  const metadataUrl = `${idp.issuer}/.well-known/openid-configuration?appid=${STUDYBUILDER.apiAppId}`;
  let api;
  try {
    api = await startApi({
      OAUTH_METADATA_URL: metadataUrl,
      OAUTH_API_APP_ID: STUDYBUILDER.apiAppId,
      API_CORS_ORIGINS: appUrl,
    });
  } catch (e) {
    await idp.close();
    web.close();
    throw e;
  }
  state.config = {
    OAUTH_ENABLED: 'true',
    OAUTH_METADATA_URL: metadataUrl,
    OAUTH_UI_APP_ID: STUDYBUILDER.clientId,
    OAUTH_API_APP_ID: STUDYBUILDER.apiAppId,
    OAUTH_SCOPES: 'API.call',
    API_BASE_URL: api.url,
    API_NAME: 'the StudyBuilder API (test)',
    // The StudyBuilder views of the default configuration.
    VIEWS: JSON.parse(readFileSync(join(ROOT, 'public/config.json'), 'utf8')).VIEWS,
    ...config,
  };
  return {
    appUrl,
    apiUrl: api.url,
    idp,
    get config() { return state.config; },
    set config(value) { state.config = value; },
    async stop() {
      api.child.kill('SIGTERM');
      web.closeAllConnections?.();
      web.close();
      await idp.close();
    },
  };
}
