// A newcomer's app, as a Leptos developer new to the library would write it from its README:
// tests/newcomer/app, copied out of the workspace, depending on `leptos-oidc-spa = "0.1"` and
// patched to the crate file `cargo package` makes (what crates.io would serve), built with trunk,
// served as static files, and used in headless Chromium against the local identity provider and
// API: sign in, roles, a typed JSON list, a POST with a request id header, sign out.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startIdp } from '../../dev/idp/server.js';
import { finish, launch, newPage } from '../e2e/browser.js';
import { freePort } from '../e2e/nginx.js';
import { IdpLoginPage } from '../e2e/pages.js';
import { ROOT, STUDYBUILDER, startApi } from '../e2e/stack.js';

const BUILD_TIMEOUT_MS = 20 * 60_000;
const LIBRARIAN = STUDYBUILDER.users.find((u) => u.username === 'librarian@studybuilder.test');

/** The library's package name and version, from cargo itself. */
function libraryPackage() {
  const metadata = JSON.parse(execFileSync('cargo', ['metadata', '--no-deps', '--format-version', '1'], { cwd: ROOT }));
  return metadata.packages.find((p) => p.name === 'leptos-oidc-spa');
}

/** Packages the library as crates.io would get it and unpacks it into `dir`. */
function packagedCrate(dir) {
  const { name, version } = libraryPackage();
  execFileSync('cargo', ['package', '-p', name, '--no-verify', '--allow-dirty', '--quiet'], { cwd: ROOT, stdio: 'inherit' });
  const crate = join(ROOT, 'target/package', `${name}-${version}.crate`);
  execFileSync('tar', ['-xzf', crate, '-C', dir]);
  return join(dir, `${name}-${version}`);
}

/** Runs a command to its end (bounded), with its output shown only if it fails. */
function run(command, args, { cwd, env, timeoutMs }) {
  return new Promise((ok, fail) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => { output += c; });
    child.stderr.on('data', (c) => { output += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) ok(output);
      else fail(new Error(`${command} ${args.join(' ')} ended with ${code ?? signal}:\n${output.slice(-4000)}`));
    });
  });
}

/** Serves `dir` on 127.0.0.1:`port` as a static host would a single-page app. */
function serveStatic(dir, port) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname));
    const file = join(dir, path);
    const found = file.startsWith(dir) && extname(file) && existsSync(file) ? file : join(dir, 'index.html');
    response.writeHead(200, { 'content-type': types[extname(found)] ?? 'application/octet-stream' });
    response.end(readFileSync(found));
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(server)));
}

describe('a newcomer app built against the packaged crate', () => {
  const ctx = {};

  before(async () => {
    ctx.dir = mkdtempSync(join(tmpdir(), 'newcomer-'));
    const library = packagedCrate(ctx.dir);
    const app = join(ctx.dir, 'app');
    cpSync(join(ROOT, 'tests/newcomer/app'), app, { recursive: true });
    appendFileSync(join(app, 'Cargo.toml'), `\n[patch.crates-io]\nleptos-oidc-spa = { path = ${JSON.stringify(library)} }\n`);
    // The same versions as the workspace: trunk needs the wasm-bindgen its CLI matches.
    cpSync(join(ROOT, 'Cargo.lock'), join(app, 'Cargo.lock'));

    const port = await freePort();
    ctx.appUrl = `http://127.0.0.1:${port}`;
    ctx.idp = await startIdp({ port: 0, appOrigins: [ctx.appUrl], quiet: true });
    const metadataUrl = `${ctx.idp.issuer}/.well-known/openid-configuration?appid=${STUDYBUILDER.apiAppId}`;
    ctx.api = await startApi({
      OAUTH_METADATA_URL: metadataUrl,
      OAUTH_API_APP_ID: STUDYBUILDER.apiAppId,
      API_CORS_ORIGINS: ctx.appUrl,
    });

    const started = Date.now();
    await run('trunk', ['build'], {
      cwd: app,
      timeoutMs: BUILD_TIMEOUT_MS,
      env: {
        CARGO_TARGET_DIR: join(ROOT, 'target/newcomer'),
        NEWCOMER_METADATA_URL: metadataUrl,
        NEWCOMER_CLIENT_ID: STUDYBUILDER.clientId,
        NEWCOMER_API_SCOPE: `api://${STUDYBUILDER.apiAppId}/API.call`,
        NEWCOMER_API: ctx.api.url,
      },
    });
    console.log(`the newcomer app built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    ctx.web = await serveStatic(join(app, 'dist'), port);
    ctx.browser = await launch();
  });

  after(async () => {
    await ctx.browser?.close();
    ctx.web?.close();
    ctx.api?.child.kill('SIGTERM');
    await ctx.idp?.close();
    if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
  });

  test('signs in, shows roles, reads typed JSON, POSTs with a header and signs out', async () => {
    const page = await newPage(ctx.browser, { appOrigin: ctx.appUrl });
    await page.goto(ctx.appUrl);
    await page.locator('#sign-in').click();
    await new IdpLoginPage(page).signIn(LIBRARIAN.username, LIBRARIAN.password);

    await page.locator('#name').waitFor();
    assert.equal(await page.locator('#name').innerText(), LIBRARIAN.name);
    assert.deepEqual(await page.locator('#roles li').allInnerTexts(), ['Library.Read', 'Library.Write', 'Study.Read']);
    await page.locator('#studies li').first().waitFor();
    assert.ok((await page.locator('#studies li').count()) > 0, 'the studies, read as typed JSON');

    await page.locator('#create').click();
    await page.locator('#created').waitFor();
    const created = await page.locator('#created').innerText();
    assert.match(created, /^Systolic blood pressure \(request newcomer-1\)$/, created);

    await page.locator('#sign-out').click();
    await page.locator('#sign-in').waitFor();
    const session = await page.evaluate(() => sessionStorage.getItem('oidc.session'));
    assert.equal(session, null, 'nothing left in sessionStorage');
    assert.deepEqual(page.problems, []);
    await finish(page);
  });
});
