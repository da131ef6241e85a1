// Debian's nginx serving a copy of dist/ with the configuration deploy/entrypoint.sh generates:
// SPA fallback, real 404s, cache rules, MIME types, the build's brotli and gzip copies, /healthz,
// and the security headers on every response.
// Run: node --test tests/nginx/   (needs /usr/sbin/nginx with the brotli modules, a release build
// in dist/ and cargo build -p gatehouse-config)

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';

import { rawGet, startNginx } from '../e2e/nginx.js';

const DIST = process.env.GATEHOUSE_DIST ?? resolve(import.meta.dirname, '../../dist');

const ENV = {
  OAUTH_ENABLED: 'true',
  OAUTH_METADATA_URL: 'http://127.0.0.1:8090/7f3c9b2e-4d1a-4c8e-9b6f-2a5d8e1c0f43/v2.0/.well-known/openid-configuration?appid=d3e62185-f259-4d5b-8a8c-a9134fd34d47',
  OAUTH_UI_APP_ID: '5d2a8f4c-9e1b-4a7d-8c3f-6b0e2d9a1c57',
  OAUTH_API_APP_ID: 'd3e62185-f259-4d5b-8a8c-a9134fd34d47',
  OAUTH_SCOPES: 'API.call',
  OAUTH_PROMPT: '',
  API_BASE_URL: 'http://localhost:8091',
  API_NAME: 'the StudyBuilder API (nginx test)',
  CSP_CONNECT_SRC: 'https://login.microsoftonline.com',
};

const SECURITY_HEADERS = {
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'x-frame-options': 'DENY',
};
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** A raw GET of `path` on `base` (no automatic decompression), bounded. */
const get = (base, path, headers = {}) => rawGet(`${base}${path}`, headers);

/**
 * Independent of the entrypoint: sha256 of each inline <script> (without src) or <style>, as
 * Chromium computes it.
 */
function inlineHashes(html, element) {
  const pattern = new RegExp(`<${element}\\b([^>]*)>([\\s\\S]*?)<\\/${element}`, 'gi');
  return [...html.replace(/\r\n?/g, '\n').matchAll(pattern)]
    .filter(([, attributes]) => !/(^|\s)src\s*=/i.test(attributes))
    .map(([, , body]) => `'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`);
}

function cspDirectives(header) {
  return Object.fromEntries(header.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
}

function assertSecurityHeaders(reply, what) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    assert.equal(reply.headers[name], value, `${what}: ${name}`);
  }
  assert.match(reply.headers['permissions-policy'] ?? '', /camera=\(\)/, `${what}: permissions-policy`);
  assert.match(reply.headers['content-security-policy'] ?? '', /^default-src 'none';/, `${what}: content-security-policy`);
  assert.equal(reply.headers['strict-transport-security'], undefined, `${what}: no HSTS over plain http`);
}

let web;
let indexHtml;
let assets;

before(async () => {
  web = await startNginx({ dist: DIST, env: ENV });
  // The copy being served (dist/ may be rebuilt by someone else meanwhile).
  indexHtml = readFileSync(join(web.webRoot, 'index.html'), 'utf8');
  const name = (re) => {
    const found = re.exec(indexHtml)?.[1];
    assert.ok(found, `${re} not found in index.html`);
    return found;
  };
  assets = {
    js: name(/import init, \* as bindings from '\/([^']+\.js)'/),
    wasm: name(/module_or_path: '\/([^']+\.wasm)'/),
  };
  // The build inlines its stylesheet; a hashed stylesheet (as a build that links one has) is
  // served by the same rule as the js.
  assets.css = 'main-0123456789abcdef.css';
  writeFileSync(join(web.webRoot, assets.css), 'body { margin: 0; }\n'.repeat(40));
});

after(async () => {
  await web?.stop();
});

describe('nginx serving dist/', () => {
  test('/ is index.html, never stored, with the full security headers and the CSP', async () => {
    const reply = await get(web.url, '/');
    assert.equal(reply.status, 200);
    assert.match(reply.headers['content-type'], /^text\/html/);
    assert.equal(reply.headers['cache-control'], 'no-store');
    assert.equal(reply.body.toString('utf8'), indexHtml);
    assertSecurityHeaders(reply, '/');

    const csp = cspDirectives(reply.headers['content-security-policy']);
    const hashes = inlineHashes(indexHtml, 'script');
    assert.ok(hashes.length >= 1);
    assert.deepEqual(csp['script-src'], ["'self'", ...hashes, "'wasm-unsafe-eval'"]);
    const styleHashes = inlineHashes(indexHtml, 'style');
    assert.equal(styleHashes.length, 1, 'the stylesheet is inline');
    assert.deepEqual(csp['connect-src'], ["'self'", 'http://127.0.0.1:8090', 'http://localhost:8091', 'https://login.microsoftonline.com']);
    assert.deepEqual(csp['form-action'], ["'self'", 'http://127.0.0.1:8090']);
    assert.deepEqual(csp['default-src'], ["'none'"]);
    assert.deepEqual(csp['style-src'], ["'self'", ...styleHashes]);
    assert.deepEqual(csp['img-src'], ["'self'", 'data:']);
    assert.deepEqual(csp['font-src'], ["'self'"]);
    assert.deepEqual(csp['manifest-src'], ["'self'"]);
    assert.deepEqual(csp['frame-ancestors'], ["'none'"]);
    assert.deepEqual(csp['base-uri'], ["'none'"]);
    assert.deepEqual(csp['object-src'], ["'none'"]);
    assert.equal(reply.headers['content-security-policy'], web.csp, 'the header is what the entrypoint reported');
  });

  test('/index.html itself is never stored either', async () => {
    const reply = await get(web.url, '/index.html');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['cache-control'], 'no-store');
    assertSecurityHeaders(reply, '/index.html');
  });

  test('/config.json is the generated configuration, JSON, never stored', async () => {
    const reply = await get(web.url, '/config.json');
    assert.equal(reply.status, 200);
    assert.match(reply.headers['content-type'], /^application\/json/);
    assert.equal(reply.headers['cache-control'], 'no-store');
    assertSecurityHeaders(reply, '/config.json');
    const { OAUTH_PROMPT, CSP_CONNECT_SRC, ...expected } = ENV;
    assert.deepEqual(JSON.parse(reply.body.toString('utf8')), expected);
  });

  test('/healthz answers the probes: 200 ok, plain text, never stored, not the app shell', async () => {
    for (const path of ['/healthz', '/healthz?probe=1']) {
      const reply = await get(web.url, path);
      assert.equal(reply.status, 200, path);
      assert.equal(reply.body.toString('utf8'), 'ok\n', path);
      assert.match(reply.headers['content-type'], /^text\/plain/, path);
      assert.equal(reply.headers['cache-control'], 'no-store', path);
      assertSecurityHeaders(reply, path);
    }
    assert.equal((await get(web.url, '/healthz/')).body.toString('utf8'), indexHtml, 'only the exact path');
  });

  test('the build\'s CSP hashes file is not served', async () => {
    const reply = await get(web.url, '/csp-inline.json');
    assert.equal(reply.status, 404);
  });

  test('the wasm, js and shell are sent as the build\'s brotli copies when the browser takes brotli', async () => {
    for (const [path, file] of [[`/${assets.wasm}`, assets.wasm], [`/${assets.js}`, assets.js], ['/studies/42', 'index.html']]) {
      const reply = await get(web.url, path, { 'accept-encoding': 'gzip, deflate, br' });
      assert.equal(reply.status, 200, path);
      assert.equal(reply.headers['content-encoding'], 'br', path);
      assert.match(reply.headers.vary ?? '', /Accept-Encoding/i, path);
      assert.ok(reply.body.equals(readFileSync(join(web.webRoot, `${file}.br`))), `${path}: the build's ${file}.br as it is`);
      assert.ok(brotliDecompressSync(reply.body).equals(readFileSync(join(web.webRoot, file))), path);
      assertSecurityHeaders(reply, path);
    }
    // config.json is written at start-up: compressed on the fly.
    const config = await get(web.url, '/config.json', { 'accept-encoding': 'br' });
    assert.equal(config.status, 200);
    assert.ok(['br', undefined].includes(config.headers['content-encoding']));
  });

  test('the hashed wasm is application/wasm, immutable, and sent as the build\'s gzip copy on request', async () => {
    const original = readFileSync(join(web.webRoot, assets.wasm));
    const plain = await get(web.url, `/${assets.wasm}`);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-type'], 'application/wasm');
    assert.equal(plain.headers['cache-control'], IMMUTABLE);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.ok(plain.body.equals(original));
    assertSecurityHeaders(plain, assets.wasm);

    const zipped = await get(web.url, `/${assets.wasm}`, { 'accept-encoding': 'gzip' });
    assert.equal(zipped.status, 200);
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(zipped.headers['content-type'], 'application/wasm');
    assert.equal(zipped.headers['cache-control'], IMMUTABLE);
    assert.match(zipped.headers.vary ?? '', /Accept-Encoding/i);
    assert.ok(zipped.body.length < original.length);
    assert.ok(gunzipSync(zipped.body).equals(original), 'gunzipped body is the wasm file');
    assert.ok(zipped.body.equals(readFileSync(join(web.webRoot, `${assets.wasm}.gz`))), 'the build\'s .gz (gzip -9) as it is');
  });

  test('the hashed js and css are immutable, with their types, gzipped on request', async () => {
    for (const [file, type] of [[assets.js, /^(application|text)\/javascript/], [assets.css, /^text\/css/]]) {
      const reply = await get(web.url, `/${file}`, { 'accept-encoding': 'gzip' });
      assert.equal(reply.status, 200, file);
      assert.match(reply.headers['content-type'], type, file);
      assert.equal(reply.headers['cache-control'], IMMUTABLE, file);
      assert.equal(reply.headers['content-encoding'], 'gzip', file);
      assert.ok(gunzipSync(reply.body).equals(readFileSync(join(web.webRoot, file))), file);
      assertSecurityHeaders(reply, file);
    }
  });

  test('hashed names are immutable whatever the hash length (trunk drops leading zeros)', async () => {
    for (const file of ['gatehouse-2077d14b12bbad0_bg.wasm', 'gatehouse-2077d14b12bbad0.js', 'main-eebbfba971895c9.css']) {
      writeFileSync(join(web.webRoot, file), 'x');
      const reply = await get(web.url, `/${file}`);
      assert.equal(reply.status, 200, file);
      assert.equal(reply.headers['cache-control'], IMMUTABLE, file);
    }
  });

  test('other files (favicon.svg) are served and revalidated', async () => {
    const reply = await get(web.url, '/favicon.svg');
    assert.equal(reply.status, 200);
    assert.match(reply.headers['content-type'], /^image\/svg\+xml/);
    assert.equal(reply.headers['cache-control'], 'no-cache');
    assertSecurityHeaders(reply, '/favicon.svg');
  });

  test('missing assets are real 404s with the security headers, never cached', async () => {
    for (const path of ['/missing.js', '/gatehouse-deadbeef.wasm', '/nope.png', '/gatehouse-0123456789abcdef_bg.wasm', '/main-0123456789abcde0.css', '/studies/42/data.json', '/.env']) {
      const reply = await get(web.url, path);
      assert.equal(reply.status, 404, path);
      assert.doesNotMatch(reply.body.toString('utf8'), /<script/, `${path}: not the app shell`);
      assert.notEqual(reply.headers['cache-control'], IMMUTABLE, path);
      assertSecurityHeaders(reply, path);
    }
  });

  test('app routes fall back to index.html: the callback and deep links', async () => {
    for (const path of ['/oauth-callback', '/oauth-callback?code=abc&state=xyz', '/studies/42?tab=x', '/studies/42/', '/signed-out']) {
      const reply = await get(web.url, path);
      assert.equal(reply.status, 200, path);
      assert.match(reply.headers['content-type'], /^text\/html/, path);
      assert.equal(reply.headers['cache-control'], 'no-store', path);
      assert.equal(reply.body.toString('utf8'), indexHtml, path);
      assertSecurityHeaders(reply, path);
    }
  });

  test('index.html is gzipped on request', async () => {
    const reply = await get(web.url, '/studies/42', { 'accept-encoding': 'gzip' });
    assert.equal(reply.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(reply.body).toString('utf8'), indexHtml);
  });
});

describe('nginx with other settings', () => {
  test('HSTS=always sends Strict-Transport-Security; sign-in off keeps the IdP out of the CSP', async () => {
    const other = await startNginx({ dist: DIST, env: { OAUTH_ENABLED: 'false', API_BASE_URL: '/api', HSTS: 'always' } });
    try {
      for (const path of ['/', '/missing.js']) {
        const reply = await get(other.url, path);
        assert.equal(reply.headers['strict-transport-security'], 'max-age=63072000; includeSubDomains', path);
      }
      const csp = cspDirectives((await get(other.url, '/')).headers['content-security-policy']);
      assert.deepEqual(csp['connect-src'], ["'self'"]);
      assert.deepEqual(csp['form-action'], ["'self'"]);
      const config = JSON.parse((await get(other.url, '/config.json')).body.toString('utf8'));
      assert.deepEqual(config, { OAUTH_ENABLED: 'false', API_BASE_URL: '/api' });
    } finally {
      await other.stop();
    }
  });

  test('startNginx reports a bad environment with the entrypoint message', async () => {
    await assert.rejects(
      startNginx({ dist: DIST, env: { OAUTH_ENABLED: 'maybe' } }),
      /gatehouse-config: OAUTH_ENABLED: /,
    );
  });
});
