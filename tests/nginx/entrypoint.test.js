// deploy/entrypoint.sh in config-only mode, and the gatehouse-config tool behind it: config.json
// from the environment (escaping, empty variables, the app's own rules), the generated nginx
// configuration (CSP, HSTS, brotli), all written to the runtime folder and nowhere else.
// Run: cargo build -p gatehouse-config && node --test tests/nginx/

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { prepareBuild, runEntrypoint } from '../e2e/nginx.js';

const GOOD = {
  OAUTH_ENABLED: 'true',
  OAUTH_METADATA_URL: 'https://login.microsoftonline.com/7f3c9b2e/v2.0/.well-known/openid-configuration?appid=d3e6',
  OAUTH_UI_APP_ID: '5d2a8f4c-9e1b-4a7d-8c3f-6b0e2d9a1c57',
  OAUTH_API_APP_ID: 'd3e62185-f259-4d5b-8a8c-a9134fd34d47',
  OAUTH_API_APP_ID_URI: 'api://studybuilder',
  OAUTH_SCOPES: 'API.call',
  OAUTH_REDIRECT_PATH: '/oauth-callback',
  OAUTH_RESPONSE_MODE: 'fragment',
  OAUTH_ROLES_CLAIM: 'roles',
  OAUTH_ROLES_TOKEN: 'access_token',
  OAUTH_PROMPT: 'select_account',
  OAUTH_DOMAIN_HINT: 'example.com',
  API_BASE_URL: 'https://api.example.com:8443/base',
  API_NAME: 'the StudyBuilder API',
};

const INDEX_HTML = `<!doctype html>
<html><head>
<script type="module">
import init from '/app-0123456789abcdef.js';
await init({ module_or_path: '/app-0123456789abcdef_bg.wasm' });
</script>
<link rel="stylesheet" href="/main-0123456789abcdef.css">
</head><body></body></html>
`;

/**
 * Independent of the tool's tokenizer: the text of each <script> without src (or each <style>),
 * hashed as Chromium does.
 */
function inlineHashes(html, element = 'script') {
  const normalised = html.replace(/\r\n?/g, '\n');
  const pattern = new RegExp(`<${element}\\b([^>]*)>([\\s\\S]*?)<\\/${element}`, 'gi');
  return [...normalised.matchAll(pattern)]
    .filter(([, attributes]) => !/(^|\s)src\s*=/i.test(attributes))
    .map(([, , body]) => `'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`);
}

let base;
let counter = 0;

/** A fresh web root (with `html` as index.html, prepared as the image's build does) and runtime folder. */
function site(html = INDEX_HTML) {
  const dir = join(base, `site-${++counter}`);
  const webRoot = join(dir, 'html');
  mkdirSync(webRoot, { recursive: true });
  writeFileSync(join(webRoot, 'index.html'), html);
  prepareBuild(webRoot);
  return { webRoot, runtimeDir: join(dir, 'run') };
}

async function configure(env, html) {
  const paths = site(html);
  const result = await runEntrypoint({ env, ...paths });
  const configFile = join(paths.runtimeDir, 'config.json');
  const headersFile = join(paths.runtimeDir, 'security-headers.conf');
  return {
    ...result,
    ...paths,
    config: existsSync(configFile) ? JSON.parse(readFileSync(configFile, 'utf8')) : undefined,
    csp: existsSync(headersFile)
      ? /add_header Content-Security-Policy "([^"]*)" always;/.exec(readFileSync(headersFile, 'utf8'))[1]
      : undefined,
    conf: (name) => readFileSync(join(paths.runtimeDir, name), 'utf8'),
  };
}

function directive(csp, name) {
  const found = csp.split(';').map((d) => d.trim().split(/\s+/)).find(([n]) => n === name);
  assert.ok(found, `${name} missing from ${csp}`);
  return found.slice(1);
}

before(() => { base = mkdtempSync(join(tmpdir(), 'gatehouse-entrypoint-test-')); });
after(() => rmSync(base, { recursive: true, force: true }));

describe('config.json', () => {
  test('a complete environment gives every key, as given', async () => {
    const r = await configure(GOOD);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(r.config, GOOD);
    assert.deepEqual(Object.keys(r.config), Object.keys(GOOD), 'keys keep the documented order');
  });

  test('empty and blank variables are omitted; surrounding whitespace is trimmed', async () => {
    const r = await configure({
      ...GOOD,
      OAUTH_PROMPT: '',
      OAUTH_DOMAIN_HINT: '  \t ',
      OAUTH_API_APP_ID_URI: '',
      OAUTH_ROLES_TOKEN: '',
      OAUTH_RESPONSE_MODE: '',
      API_BASE_URL: '',
      API_NAME: '  padded name \n',
    });
    assert.equal(r.code, 0, r.stderr);
    for (const key of ['OAUTH_PROMPT', 'OAUTH_DOMAIN_HINT', 'OAUTH_API_APP_ID_URI', 'OAUTH_ROLES_TOKEN', 'OAUTH_RESPONSE_MODE', 'API_BASE_URL']) {
      assert.equal(key in r.config, false, `${key} should be omitted`);
    }
    assert.equal(r.config.API_NAME, 'padded name');
  });

  test('quotes, backslashes, newlines, control characters and </script> survive JSON.parse exactly', async () => {
    const nasty = 'say "hi" \\ back\\slash \\u0041\nnew line\ttab \r cr </script><script>alert(1)</script> \u0001\u001f\u007f ünïcødé ✓ 𝄞 $HOME `id` \'single\'';
    const r = await configure({ ...GOOD, API_NAME: nasty, OAUTH_DOMAIN_HINT: '"}, "OAUTH_ENABLED": "false' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.config.API_NAME, nasty);
    assert.equal(r.config.OAUTH_DOMAIN_HINT, '"}, "OAUTH_ENABLED": "false');
    assert.equal(r.config.OAUTH_ENABLED, 'true');
    const raw = readFileSync(join(r.runtimeDir, 'config.json'), 'utf8');
    assert.doesNotMatch(raw, /[\u0000-\u0009\u000b-\u001f]/, 'no raw control characters in the file');
  });

  test('OAUTH_ENABLED=false needs no OAuth variables and keeps the IdP out of the CSP', async () => {
    for (const off of ['false', 'FALSE', 'off', 'No', '0']) {
      const r = await configure({ OAUTH_ENABLED: off, API_BASE_URL: '/api' });
      assert.equal(r.code, 0, `${off}: ${r.stderr}`);
      assert.deepEqual(r.config, { OAUTH_ENABLED: off, API_BASE_URL: '/api' });
      assert.deepEqual(directive(r.csp, 'connect-src'), ["'self'"]);
      assert.deepEqual(directive(r.csp, 'form-action'), ["'self'"]);
    }
  });

  test('OAUTH_ENABLED accepts true/on/1/yes in any case, and defaults to true', async () => {
    for (const on of ['TRUE', 'On', '1', 'yes']) {
      const r = await configure({ ...GOOD, OAUTH_ENABLED: on });
      assert.equal(r.code, 0, `${on}: ${r.stderr}`);
      assert.equal(r.config.OAUTH_ENABLED, on);
    }
    const { OAUTH_ENABLED, ...rest } = GOOD;
    const r = await configure(rest);
    assert.equal(r.code, 0, r.stderr);
    assert.equal('OAUTH_ENABLED' in r.config, false);
    assert.ok(directive(r.csp, 'connect-src').includes('https://login.microsoftonline.com'));
  });

  test('VIEWS is passed through as JSON when it is a JSON list', async () => {
    const views = '[{"id": "studies", "title": "Caf\\u00e9 studies", "path": "/studies", "roles": ["Study.Read", "Study.Write"]}]';
    const r = await configure({ ...GOOD, VIEWS: views });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.config.VIEWS, JSON.parse(views));
  });

  test('RESOURCES and GRAPH_PROFILE: passed through, their origins join connect-src, blob: images for the photo', async () => {
    const resources = JSON.stringify([
      { id: 'alpha', app_id_uri: 'api://ws-a', scopes: ['user_impersonation'], base_url: 'https://TRE.example.org:8443/api' },
      { id: 'beta', app_id_uri: 'api://ws-b', scopes: 'user_impersonation', base_url: '/api/workspaces/beta' },
      { id: 'gamma', app_id_uri: 'api://ws-c', scopes: ['s'], base_url: 'https://api.example.com:8443/other' },
    ]);
    const r = await configure({ ...GOOD, RESOURCES: resources, GRAPH_PROFILE: 'on' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.config.RESOURCES, JSON.parse(resources));
    assert.equal(r.config.GRAPH_PROFILE, 'on');
    assert.deepEqual(directive(r.csp, 'connect-src'), ["'self'", 'https://login.microsoftonline.com',
      'https://api.example.com:8443', 'https://tre.example.org:8443', 'https://graph.microsoft.com']);
    assert.deepEqual(directive(r.csp, 'img-src'), ["'self'", 'data:', 'blob:']);

    const local = await configure({ ...GOOD, GRAPH_PROFILE: 'true', GRAPH_BASE_URL: 'http://127.0.0.1:8090/graph/v1.0' });
    assert.equal(local.code, 0, local.stderr);
    assert.equal(local.config.GRAPH_BASE_URL, 'http://127.0.0.1:8090/graph/v1.0');
    assert.ok(directive(local.csp, 'connect-src').includes('http://127.0.0.1:8090'));

    const off = await configure({ ...GOOD, GRAPH_PROFILE: 'false' });
    assert.deepEqual(directive(off.csp, 'img-src'), ["'self'", 'data:'], 'no blob: without the photo');
    assert.ok(!directive(off.csp, 'connect-src').includes('https://graph.microsoft.com'));
  });

  test('listen addresses, domain wildcards and a log outside the web root are accepted', async () => {
    for (const address of ['127.0.0.1', '0.0.0.0', '[::1]', '[fe80::1:2]', 'localhost', 'web-1.internal.example']) {
      const r = await configure({ ...GOOD, LISTEN_ADDRESS: address });
      assert.equal(r.code, 0, `${address}: ${r.stderr}`);
    }
    const r = await configure({ ...GOOD, CSP_CONNECT_SRC: 'https://*.example.com wss://*.api.example.org:443', NGINX_ACCESS_LOG: '/dev/stdout' });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(directive(r.csp, 'connect-src').includes('https://*.example.com'));
  });

  test('OAUTH_API_APP_ID may be left out for a provider other than Entra ID (its scopes are plain names)', async () => {
    const { OAUTH_API_APP_ID: _, OAUTH_API_APP_ID_URI: __, ...rest } = GOOD;
    const r = await configure({ ...rest, OAUTH_METADATA_URL: 'https://kc.example/realms/r/.well-known/openid-configuration',
      OAUTH_SCOPES: 'studybuilder-api' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.config.OAUTH_API_APP_ID, undefined);
    assert.equal(r.config.OAUTH_SCOPES, 'studybuilder-api');
  });

  test('StudyBuilder\'s environment works as it is: its other keys are left out, OAUTH_RBAC_ENABLED is passed on', async () => {
    const r = await configure({
      ...GOOD, APP_ENV: 'prod', DOC_BASE_URL: '/doc', NEODASH_BASE_URL: '/neodash', APPINSIGHTS_DISABLE: 'true',
      BUILD_NUMBER: '42', FRONTEND_BUILD_NUMBER: 'OSB v0.20.0', STUDYBUILDER_VERSION: 'OSB v0.20.0', OAUTH_RBAC_ENABLED: 'false',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.config, { ...GOOD, OAUTH_RBAC_ENABLED: 'false' });
    const bad = await runEntrypoint({ env: { ...GOOD, OAUTH_RBAC_ENABLED: 'sometimes' }, ...site() });
    assert.match(bad.stderr, /^gatehouse-config: OAUTH_RBAC_ENABLED: /m);
  });

  test('API_BASE_URL may be a path on this site', async () => {
    const r = await configure({ ...GOOD, API_BASE_URL: '/api/v1' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.config.API_BASE_URL, '/api/v1');
    assert.deepEqual(directive(r.csp, 'connect-src'), ["'self'", 'https://login.microsoftonline.com']);
  });
});

describe('invalid values stop the start, naming the variable', () => {
  const bad = (change) => ({ ...GOOD, ...change });
  const cases = [
    ['OAUTH_ENABLED', 'maybe', bad({ OAUTH_ENABLED: 'maybe' })],
    ['OAUTH_ENABLED', 'truee', bad({ OAUTH_ENABLED: 'truee' })],
    ['OAUTH_METADATA_URL', 'no scheme', bad({ OAUTH_METADATA_URL: 'login.microsoftonline.com/t/v2.0' })],
    ['OAUTH_METADATA_URL', 'ftp', bad({ OAUTH_METADATA_URL: 'ftp://idp.example.com/x' })],
    ['OAUTH_METADATA_URL', 'no host', bad({ OAUTH_METADATA_URL: 'https://' })],
    ['OAUTH_METADATA_URL', 'empty host', bad({ OAUTH_METADATA_URL: 'https:///path' })],
    ['OAUTH_METADATA_URL', 'space', bad({ OAUTH_METADATA_URL: 'https://idp.example.com/a b' })],
    ['OAUTH_METADATA_URL', 'CSP injection', bad({ OAUTH_METADATA_URL: 'https://idp"; script-src *;.example.com/' })],
    ['API_BASE_URL', 'no scheme', bad({ API_BASE_URL: 'api.example.com' })],
    ['API_BASE_URL', 'protocol-relative', bad({ API_BASE_URL: '//evil.example.com/api' })],
    ['API_BASE_URL', 'ws', bad({ API_BASE_URL: 'ws://api.example.com' })],
    ['OAUTH_RESPONSE_MODE', 'form_post', bad({ OAUTH_RESPONSE_MODE: 'form_post' })],
    ['OAUTH_RESPONSE_MODE', 'Fragment', bad({ OAUTH_RESPONSE_MODE: 'Fragment' })],
    ['OAUTH_ROLES_TOKEN', 'refresh_token', bad({ OAUTH_ROLES_TOKEN: 'refresh_token' })],
    ['OAUTH_REDIRECT_PATH', 'relative', bad({ OAUTH_REDIRECT_PATH: 'oauth-callback' })],
    ['OAUTH_ROLES_CLAIM', 'empty segment', bad({ OAUTH_ROLES_CLAIM: 'realm_access..roles' })],
    ['VIEWS', 'object', bad({ VIEWS: '{"studies": true}' })],
    ['VIEWS', 'trailing comma', bad({ VIEWS: '["studies",]' })],
    ['VIEWS', 'trailing text', bad({ VIEWS: '["studies"] trailing' })],
    ['VIEWS', 'unterminated string', bad({ VIEWS: '["unterminated]' })],
    ['RESOURCES', 'object', bad({ RESOURCES: '{"id": "alpha"}' })],
    ['RESOURCES', 'base_url not a URL', bad({ RESOURCES: '[{"id": "a", "base_url": "javascript:alert(1)"}]' })],
    ['RESOURCES', 'base_url CSP injection', bad({ RESOURCES: '[{"id": "a", "base_url": "https://x; script-src *"}]' })],
    ['GRAPH_PROFILE', 'unknown', bad({ GRAPH_PROFILE: 'sometimes' })],
    ['GRAPH_BASE_URL', 'not a URL', bad({ GRAPH_BASE_URL: 'graph.microsoft.com' })],
    ['CSP_CONNECT_SRC', 'injection', bad({ CSP_CONNECT_SRC: 'https://ok.example.com https://x;script-src' })],
    ['CSP_CONNECT_SRC', 'every host', bad({ CSP_CONNECT_SRC: 'https://*' })],
    ['CSP_CONNECT_SRC', 'every host on a port', bad({ CSP_CONNECT_SRC: 'https://ok.example.com https://*:443' })],
    ['CSP_CONNECT_SRC', 'every host with a path', bad({ CSP_CONNECT_SRC: 'wss://*/socket' })],
    ['CSP_CONNECT_SRC', 'every host of a top-level domain', bad({ CSP_CONNECT_SRC: 'https://*.com' })],
    ['CSP_CONNECT_SRC', 'a bare wildcard', bad({ CSP_CONNECT_SRC: '*' })],
    ['CSP_CONNECT_SRC', 'a scheme alone', bad({ CSP_CONNECT_SRC: 'https:' })],
    ['LISTEN_ADDRESS', 'three numbers', bad({ LISTEN_ADDRESS: '1.2.3' })],
    ['LISTEN_ADDRESS', 'a number over 255', bad({ LISTEN_ADDRESS: '127.0.0.256' })],
    ['LISTEN_ADDRESS', 'an unclosed bracket', bad({ LISTEN_ADDRESS: '[::1' })],
    ['LISTEN_ADDRESS', 'a port in it', bad({ LISTEN_ADDRESS: 'localhost:8080' })],
    ['LISTEN_ADDRESS', 'an empty label', bad({ LISTEN_ADDRESS: 'web..example' })],
    ['LISTEN_ADDRESS', 'a label ending in a hyphen', bad({ LISTEN_ADDRESS: 'web-.example' })],
    ['NGINX_ACCESS_LOG', 'a .. segment', bad({ NGINX_ACCESS_LOG: '/var/log/../www/access.log' })],
    ['PORT', 'not a number', bad({ PORT: 'http' })],
    ['HSTS', 'unknown', bad({ HSTS: 'sometimes' })],
    ['NGINX_CONF_DIR', 'replaced by RUNTIME_DIR', bad({ NGINX_CONF_DIR: '/etc/nginx/gatehouse' })],
    ['NGINX_RUN_DIR', 'replaced by RUNTIME_DIR', bad({ NGINX_RUN_DIR: '/tmp/gatehouse-nginx' })],
    ['OAUTH_METADATA_URL', 'missing', bad({ OAUTH_METADATA_URL: undefined })],
    ['OAUTH_UI_APP_ID', 'empty', bad({ OAUTH_UI_APP_ID: '' })],
    ['OAUTH_API_APP_ID', 'blank', bad({ OAUTH_API_APP_ID: '   ' })],
    ['OAUTH_UI_APP_ID', 'missing, OAUTH_ENABLED unset', bad({ OAUTH_ENABLED: undefined, OAUTH_UI_APP_ID: undefined })],
    ['OAUTH_API_APP_ID', 'missing, OAUTH_ENABLED=yes (Entra ID)', bad({ OAUTH_ENABLED: 'yes', OAUTH_API_APP_ID: undefined })],
    ['OAUTH_API_APP_ID', 'missing, Entra ID for US government', bad({ OAUTH_API_APP_ID: undefined,
      OAUTH_METADATA_URL: 'https://LOGIN.microsoftonline.us/t/v2.0/.well-known/openid-configuration' })],
  ];
  for (const [variable, what, env] of cases) {
    test(`${variable}: ${what}`, async () => {
      const paths = site();
      mkdirSync(paths.runtimeDir);
      writeFileSync(join(paths.runtimeDir, 'config.json'), '{"previous": true}');
      const r = await runEntrypoint({ env, ...paths });
      assert.notEqual(r.code, 0, `should fail: ${r.stdout}`);
      assert.match(r.stderr, new RegExp(`^gatehouse-config: ${variable}: \\S`, 'm'));
      assert.equal(readFileSync(join(paths.runtimeDir, 'config.json'), 'utf8'), '{"previous": true}', 'config.json untouched');
      assert.deepEqual(readdirSync(paths.runtimeDir), ['config.json'], 'nothing else written');
    });
  }

  test('the message is the one the app\'s error page shows for the same value', async () => {
    const r = await runEntrypoint({ env: { ...GOOD, OAUTH_RESPONSE_MODE: 'form_post' }, ...site() });
    assert.match(r.stderr, /^gatehouse-config: OAUTH_RESPONSE_MODE: OAUTH_RESPONSE_MODE in \/config\.json has the value "form_post"; expected fragment or query\.$/m);
  });

  test('a misspelt OAUTH_ variable is refused by name; StudyBuilder API\'s secret is never published', async () => {
    const typo = await runEntrypoint({ env: { ...GOOD, OAUTH_SCOPE: 'API.call' }, ...site() });
    assert.notEqual(typo.code, 0);
    assert.match(typo.stderr, /^gatehouse-config: OAUTH_SCOPE: OAUTH_SCOPE in \/config\.json is not a Gatehouse setting/m);
    const r = await configure({ ...GOOD, OAUTH_API_APP_SECRET: 's3cret-value', OAUTH_SWAGGER_APP_ID: 'swagger' });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(JSON.stringify(r.config), /s3cret|swagger/);
  });

  test('a build that was not prepared (no CSP hashes) is refused as WEB_ROOT', async () => {
    const paths = site();
    rmSync(join(paths.webRoot, 'csp-inline.json'));
    const r = await runEntrypoint({ env: GOOD, ...paths });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^gatehouse-config: WEB_ROOT: .*csp-inline\.json.*gatehouse-config build/m);
  });

  test('an access log inside the web root, which nginx would serve, is refused', async () => {
    const paths = site();
    const r = await runEntrypoint({ env: { ...GOOD, NGINX_ACCESS_LOG: join(paths.webRoot, 'logs/access.log') }, ...paths });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^gatehouse-config: NGINX_ACCESS_LOG: .* is inside WEB_ROOT, which nginx serves/m);
  });

  test('workers running as root are refused', { skip: process.getuid() !== 0 && 'the workers\' user applies only when the entrypoint runs as root' }, async () => {
    const paths = site();
    const r = await runEntrypoint({ env: { ...GOOD, NGINX_USER: 'root' }, ...paths });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^entrypoint: NGINX_USER: "root" is root/m);
  });

  test('a missing index.html is reported as WEB_ROOT', async () => {
    const paths = site();
    rmSync(join(paths.webRoot, 'index.html'));
    const r = await runEntrypoint({ env: GOOD, ...paths });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^gatehouse-config: WEB_ROOT: /m);
  });
});

describe('Content-Security-Policy', () => {
  test('the policy for a sample environment', async () => {
    const r = await configure({ ...GOOD, CSP_CONNECT_SRC: 'https://login.microsoftonline.com https://graph.microsoft.com' });
    assert.equal(r.code, 0, r.stderr);
    const [hash] = inlineHashes(INDEX_HTML);
    assert.equal(
      r.csp,
      `default-src 'none'; script-src 'self' ${hash} 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; ` +
        "font-src 'self'; connect-src 'self' https://login.microsoftonline.com https://api.example.com:8443 https://graph.microsoft.com; " +
        "manifest-src 'self'; form-action 'self' https://login.microsoftonline.com; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    );
    assert.match(r.stdout, /Content-Security-Policy: default-src 'none';/);
  });

  test('every inline script is hashed exactly as the browser sees it (CRLF, UTF-8, several scripts)', async () => {
    const html = '<!doctype html>\r\n<html><head>\r\n<SCRIPT type="module">\r\n  const a = "ünï ✓ 𝄞";\r\n  console.log(a);\r</SCRIPT>\r\n' +
      '<script src="/external-0123456789abcdef.js"></script>\n' +
      '<script>window.x = 1 < 2 && "</scrip";</script>\n' +
      '<script type="module" data-x=\'y\'></script>\n</head><body></body></html>';
    const r = await configure(GOOD, html);
    assert.equal(r.code, 0, r.stderr);
    const expected = inlineHashes(html);
    assert.equal(expected.length, 3);
    const scriptSrc = directive(r.csp, 'script-src');
    assert.deepEqual(scriptSrc, ["'self'", ...expected, "'wasm-unsafe-eval'"]);
  });

  test('every inline style is hashed for style-src (CRLF, UTF-8, several styles)', async () => {
    const html = '<!doctype html>\r\n<html><head>\r\n<STYLE>\r\n  body::before { content: "✓ 𝄞"; }\r</STYLE>\r\n' +
      '<style media="print">a::after { content: "</styl"; }</style>\n' +
      '<stylesheet>not a style element</stylesheet>\n</head><body></body></html>';
    const r = await configure(GOOD, html);
    assert.equal(r.code, 0, r.stderr);
    const expected = inlineHashes(html, 'style');
    assert.equal(expected.length, 2);
    assert.deepEqual(directive(r.csp, 'style-src'), ["'self'", ...expected]);
  });

  test('the repository build: the hashes of trunk\'s loader and the inline stylesheet in dist/index.html', async () => {
    const dist = join(import.meta.dirname, '../../dist/index.html');
    const html = readFileSync(dist, 'utf8');
    const r = await configure(GOOD, html);
    assert.equal(r.code, 0, r.stderr);
    const expected = inlineHashes(html);
    assert.ok(expected.length >= 1, 'trunk emits an inline module loader');
    assert.deepEqual(directive(r.csp, 'script-src'), ["'self'", ...expected, "'wasm-unsafe-eval'"]);
    const styles = inlineHashes(html, 'style');
    assert.equal(styles.length, 1, 'the stylesheet is inline');
    assert.deepEqual(directive(r.csp, 'style-src'), ["'self'", ...styles]);
  });

  test('IdP and API origins: host lower-cased, port kept, path and query dropped', async () => {
    const r = await configure({
      ...GOOD,
      OAUTH_METADATA_URL: 'https://IdP.Example.com:8090/tenant/v2.0/.well-known/openid-configuration?appid=x',
      API_BASE_URL: 'http://127.0.0.1:8091/api',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(directive(r.csp, 'connect-src'), ["'self'", 'https://idp.example.com:8090', 'http://127.0.0.1:8091']);
    assert.deepEqual(directive(r.csp, 'form-action'), ["'self'", 'https://idp.example.com:8090']);
  });
});

describe('nginx configuration', () => {
  test('HSTS: only over TLS by default, always or never on request', async () => {
    const auto = await configure(GOOD);
    assert.match(auto.conf('gatehouse.conf'), /default "";\s+on\s+"max-age=63072000; includeSubDomains";/);
    const always = await configure({ ...GOOD, HSTS: 'always' });
    assert.match(always.conf('gatehouse.conf'), /default "max-age=63072000; includeSubDomains";/);
    const off = await configure({ ...GOOD, HSTS: 'off' });
    assert.match(off.conf('gatehouse.conf'), /default "";\s+on\s+"";/);
  });

  test('brotli is loaded only when both modules are installed', async () => {
    const without = await configure({ ...GOOD, NGINX_MODULES_DIR: join(base, 'no-modules') });
    assert.equal(without.code, 0, without.stderr);
    assert.doesNotMatch(without.conf('modules.conf'), /^load_module/m);
    assert.doesNotMatch(without.conf('brotli.conf'), /^brotli/m);

    const modules = join(base, 'modules');
    mkdirSync(modules, { recursive: true });
    writeFileSync(join(modules, 'ngx_http_brotli_static_module.so'), '');
    const half = await configure({ ...GOOD, NGINX_MODULES_DIR: modules });
    assert.doesNotMatch(half.conf('modules.conf'), /^load_module/m, 'the filter module is missing');

    writeFileSync(join(modules, 'ngx_http_brotli_filter_module.so'), '');
    const withModules = await configure({ ...GOOD, NGINX_MODULES_DIR: modules });
    assert.equal(withModules.code, 0, withModules.stderr);
    assert.match(withModules.conf('modules.conf'), new RegExp(`^load_module ${modules}/ngx_http_brotli_static_module.so;$`, 'm'));
    assert.match(withModules.conf('modules.conf'), new RegExp(`^load_module ${modules}/ngx_http_brotli_filter_module.so;$`, 'm'));
    assert.match(withModules.conf('brotli.conf'), /^brotli_static on;$/m);
    assert.match(withModules.conf('brotli.conf'), /^brotli_types .*application\/wasm/m);

    const forced = await configure({ ...GOOD, BROTLI: 'on', NGINX_MODULES_DIR: join(base, 'no-modules') });
    assert.notEqual(forced.code, 0);
    assert.match(forced.stderr, /^gatehouse-config: BROTLI: /m);
  });

  test('the generated files carry the listen address, root and temp paths', async () => {
    const r = await configure(GOOD);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.conf('gatehouse.conf'), /listen 127\.0\.0\.1:8080;/);
    assert.match(r.conf('gatehouse.conf'), new RegExp(`root ${r.webRoot};`));
    assert.match(r.conf('nginx.conf'), /^daemon off;$/m);
    assert.match(r.conf('nginx.conf'), new RegExp(`client_body_temp_path ${r.runtimeDir}/client_body;`));
    assert.match(r.conf('gatehouse.conf'), new RegExp(`alias ${r.runtimeDir}/config.json;`));
    assert.doesNotMatch(r.conf('nginx.conf') + r.conf('gatehouse.conf') + r.conf('security-headers.conf'), /@[A-Z_]+@/);
  });
});
