// End to end through the container's runtime constraints: the entrypoint, gatehouse-config and
// nginx run under bubblewrap as an arbitrary non-root UID with GID 0, on a read-only root
// filesystem laid out like the image, with only the runtime folder writable — and a person still
// signs in, sees their roles and calls the API, without a CSP violation, over brotli.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { brotliDecompressSync } from 'node:zlib';

import { registrations } from '../../dev/idp/registrations.js';
import { finish } from './browser.js';
import { useStack } from './fixture.js';
import { BWRAP, IMAGE, rawGet as get, sandboxCommand } from './nginx.js';
import { DIST } from './stack.js';

const sb = registrations.find((r) => r.name === 'StudyBuilder');
const reader = sb.users.find((u) => u.username.startsWith('reader'));
const writer = sb.users.find((u) => u.username.startsWith('super'));

describe('the sandbox is the container', () => {
  test('an arbitrary UID with GID 0; the root is read-only; only the runtime folder is writable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sandbox-'));
    try {
      const runtimeDir = join(dir, 'run');
      mkdirSync(runtimeDir);
      const probe = [
        'id -u; id -g',
        ...[`${IMAGE.webRoot}/index.html`, `${IMAGE.webRoot}/new`, '/etc/gatehouse', '/tmp/x', '/x', `${IMAGE.runtimeDir}/written`]
          .map((path) => `if touch ${path} 2>/dev/null; then echo "writable ${path}"; else echo "read-only ${path}"; fi`),
      ].join('\n');
      const args = sandboxCommand({ webRoot: DIST, runtimeDir, env: { PATH: '/usr/bin:/bin' }, command: ['/bin/sh', '-c', probe] });
      const out = execFileSync(BWRAP, args, { encoding: 'utf8', timeout: 10_000 });
      const lines = out.trim().split('\n');
      assert.deepEqual(lines.slice(0, 2), [String(IMAGE.uid), '0']);
      assert.deepEqual(lines.slice(2), [
        `read-only ${IMAGE.webRoot}/index.html`,
        `read-only ${IMAGE.webRoot}/new`,
        'read-only /etc/gatehouse',
        'read-only /tmp/x',
        'read-only /x',
        `writable ${IMAGE.runtimeDir}/written`,
      ]);
      assert.deepEqual(readdirSync(runtimeDir), ['written']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sign-in through the read-only, unprivileged container', () => {
  const ctx = useStack({ sandbox: true });

  test('/healthz answers without the app shell; assets are served as the build\'s brotli copies', async () => {
    const { web } = ctx.stack;
    const health = await get(`${web.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(health.body.toString(), 'ok\n');
    assert.match(health.headers['content-type'], /^text\/plain/);
    assert.equal(health.headers['cache-control'], 'no-store');

    const index = (await get(`${web.url}/`)).body.toString();
    const wasm = /module_or_path: '\/([^']+\.wasm)'/.exec(index)[1];
    const reply = await get(`${web.url}/${wasm}`, { 'accept-encoding': 'gzip, deflate, br' });
    assert.equal(reply.headers['content-encoding'], 'br');
    assert.ok(reply.body.equals(readFileSync(join(web.webRoot, `${wasm}.br`))), 'the build\'s .br file, sent as it is');
    assert.ok(brotliDecompressSync(reply.body).equals(readFileSync(join(web.webRoot, wasm))));

    const written = readdirSync(web.runtimeDir).sort();
    for (const file of ['config.json', 'nginx.conf', 'gatehouse.conf', 'security-headers.conf', 'nginx.pid']) {
      assert.ok(written.includes(file), `${file} in the runtime folder: ${written}`);
    }
  });

  test('a reader signs in, sees their roles, calls the API; no CSP violation', async () => {
    const { page, app } = await ctx.newApp();
    const encodings = new Map();
    page.on('response', async (r) => {
      if (r.url().startsWith(ctx.stack.appUrl)) encodings.set(new URL(r.url()).pathname, (await r.allHeaders())['content-encoding']);
    });
    await app.signIn(reader);
    const apiRequest = page.waitForRequest((r) => r.url() === `${ctx.stack.apiUrl}/studies` && r.method() === 'GET');
    await app.testId('view-studies').click();
    const { access_token: token } = await app.storedSession();
    assert.equal((await (await apiRequest).allHeaders()).authorization, `Bearer ${token}`);
    assert.equal(await app.testId('api-status').innerText(), '200');
    assert.match(await app.testId('api-result').innerText(), /study_number/);
    await app.openProfile();
    assert.deepEqual((await app.roles()).sort(), ['Library.Read', 'Study.Read']);

    const wasm = [...encodings.keys()].find((path) => path.endsWith('.wasm'));
    assert.ok(wasm, `the wasm was fetched: ${[...encodings.keys()]}`);
    assert.ok(['br', 'gzip'].includes(encodings.get(wasm)), `the wasm came compressed (${encodings.get(wasm)})`);
    assert.deepEqual(page.problems, []);
    await finish(page);
  });

  test('a writer\'s roles open the write views', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(writer);
    await app.testId('view-create-study').click();
    await app.testId('api-body').waitFor();
    assert.deepEqual(page.problems, []);
    await finish(page);
  });
});
