// Runs the production hosting for a test: deploy/entrypoint.sh (config-only mode) writes
// config.json and the nginx configuration for a temporary copy of dist/, then Debian's nginx
// serves it on 127.0.0.1 and a free port, exactly as the container would (same templates, same
// CSP, same cache rules).
//
//   const web = await startNginx({ dist, env: { OAUTH_METADATA_URL: ..., ... } });
//   ... fetch(`${web.url}/`) ...
//   await web.stop();
//
// Every wait is bounded; `stop()` ends nginx (master and workers) and removes the temp files.

import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const ENTRYPOINT = join(ROOT, 'deploy/entrypoint.sh');
export const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
/** The shell that runs the entrypoint (the container uses busybox ash; here dash or bash). */
export const ENTRYPOINT_SHELL = process.env.ENTRYPOINT_SHELL ?? 'sh';

const running = new Set();
process.once('exit', () => {
  // Last resort if a test forgot stop(): nginx runs in its own process group.
  for (const pid of running) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/** Copies dist/ (without trunk's .stage build directory) to `target`, readable by everyone. */
export function copyDist(dist, target) {
  if (!existsSync(join(dist, 'index.html'))) {
    throw new Error(`${dist}/index.html is missing: run "trunk build --release" first`);
  }
  cpSync(dist, target, {
    recursive: true,
    filter: (source) => !source.split(/[\\/]/).includes('.stage'),
  });
  makeReadable(target);
}

// nginx's workers run as "nobody" when the tests run as root: temp dirs (mode 0700) must be
// world-readable for them.
function makeReadable(dir) {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) makeReadable(path);
    else chmodSync(path, 0o644);
  }
}

/**
 * Runs deploy/entrypoint.sh --config-only with exactly `env` (plus PATH and the given paths; the
 * caller's own environment is not passed, so a developer's OAUTH_* variables cannot leak in).
 * Resolves to { code, stdout, stderr }; never rejects for a non-zero exit.
 */
export function runEntrypoint({ env = {}, webRoot, confDir, runDir, port = 8080, args = ['--config-only'], timeoutMs = 15_000 }) {
  const childEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    TMPDIR: tmpdir(),
    WEB_ROOT: webRoot,
    NGINX_CONF_DIR: confDir,
    NGINX_RUN_DIR: runDir,
    PORT: String(port),
    LISTEN_ADDRESS: '127.0.0.1',
    NGINX_ACCESS_LOG: 'off',
    NGINX_WORKER_PROCESSES: '1',
    ...env,
  };
  for (const [key, value] of Object.entries(childEnv)) {
    if (value === undefined) delete childEnv[key];
  }
  return new Promise((ok, fail) => {
    const child = spawn(ENTRYPOINT_SHELL, [ENTRYPOINT, ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`entrypoint did not finish within ${timeoutMs} ms:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.once('error', (e) => { clearTimeout(timer); fail(e); });
    child.once('close', (code) => {
      clearTimeout(timer);
      ok({ code, stdout, stderr });
    });
  });
}

/** Polls `url` until it answers at all (any status), for at most `timeoutMs`. */
async function waitUntilAnswering(url, child, output, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}) before answering:\n${output()}`);
    }
    try {
      const reply = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await reply.arrayBuffer();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not answer on ${url} within ${timeoutMs} ms:\n${output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function waitForExit(child, timeoutMs) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((ok) => {
    const timer = setTimeout(() => ok(false), timeoutMs);
    child.once('exit', () => { clearTimeout(timer); ok(true); });
  });
}

/**
 * Serves a temporary copy of `dist` with nginx, configured by the entrypoint from `env` (the
 * container's environment: OAUTH_*, API_*, CSP_CONNECT_SRC, HSTS, ...). `port` 0 picks a free
 * port. Returns { url, port, dir, webRoot, confDir, csp, log(), stop() }; `csp` is the policy
 * the entrypoint computed and `log()` nginx's stderr so far.
 */
export async function startNginx({ dist, env = {}, port = 0, timeoutMs = 10_000 } = {}) {
  if (!dist) throw new Error('startNginx: dist is required');
  if (!existsSync(NGINX_BIN)) throw new Error(`${NGINX_BIN} is missing (Debian package nginx)`);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-nginx-'));
  chmodSync(dir, 0o755);
  const webRoot = join(dir, 'html');
  const confDir = join(dir, 'conf');
  const runDir = join(dir, 'run');
  const cleanup = () => rmSync(dir, { recursive: true, force: true });

  try {
    copyDist(dist, webRoot);
    // A port picked by the kernel can be taken by someone else before nginx binds it: retry.
    for (let attempt = 1; ; attempt++) {
      const chosen = port || (await freePort());
      const configured = await runEntrypoint({ env, webRoot, confDir, runDir, port: chosen });
      if (configured.code !== 0) {
        throw new Error(`deploy/entrypoint.sh failed (exit ${configured.code}):\n${configured.stderr}${configured.stdout}`);
      }
      const csp = /Content-Security-Policy: (.*)/.exec(configured.stdout)?.[1] ?? null;

      const child = spawn(NGINX_BIN, ['-e', 'stderr', '-p', `${runDir}/`, '-c', join(confDir, 'nginx.conf')], {
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true, // its own process group, so workers can be killed with the master
      });
      running.add(child.pid);
      let stderr = '';
      child.stderr.on('data', (c) => { stderr += c; });
      child.once('exit', () => running.delete(child.pid));

      const url = `http://127.0.0.1:${chosen}`;
      try {
        await waitUntilAnswering(`${url}/config.json`, child, () => stderr, timeoutMs);
      } catch (e) {
        try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
        await waitForExit(child, 2_000);
        if (!port && attempt < 3 && /Address already in use/.test(stderr)) continue;
        throw e;
      }

      return {
        url,
        port: chosen,
        dir,
        webRoot,
        confDir,
        csp,
        log: () => stderr,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM'); // fast shutdown: the master stops its workers
            if (!(await waitForExit(child, 5_000))) {
              try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
              await waitForExit(child, 2_000);
            }
          }
          running.delete(child.pid);
          cleanup();
        },
      };
    }
  } catch (e) {
    cleanup();
    throw e;
  }
}
