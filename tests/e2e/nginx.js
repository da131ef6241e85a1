// Runs the production hosting for a test: a temporary copy of dist/, prepared as the image's
// build stage prepares it (gatehouse-config build: short glue names, minified glue, CSP hashes,
// brotli and gzip copies), then deploy/entrypoint.sh, whose gatehouse-config writes config.json and the nginx
// configuration into a runtime folder, and Debian's nginx serving it on 127.0.0.1 and a free
// port, exactly as the container would (same templates, same CSP, same cache rules).
//
//   const web = await startNginx({ dist, env: { OAUTH_METADATA_URL: ..., ... } });
//   ... fetch(`${web.url}/`) ...
//   await web.stop();
//
// With `sandbox: true` the entrypoint, the tool and nginx run as the container does: under
// bubblewrap, as an arbitrary non-root UID with GID 0, on a read-only root filesystem laid out
// like the image, with only the runtime folder writable.
//
// Every wait is bounded; `stop()` ends nginx (master and workers) and removes the temp files.

import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const ENTRYPOINT = join(ROOT, 'deploy/entrypoint.sh');
export const TEMPLATES = join(ROOT, 'deploy/nginx');
export const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
/** The hosting tool, built by `cargo build -p gatehouse-config`. */
export const GATEHOUSE_CONFIG = process.env.GATEHOUSE_CONFIG
  ?? join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug/gatehouse-config');
/** The shell that runs the entrypoint (the image's /bin/sh is dash, as Debian's here). */
export const ENTRYPOINT_SHELL = process.env.ENTRYPOINT_SHELL ?? 'sh';
export const BWRAP = process.env.BWRAP ?? '/usr/bin/bwrap';

/** Where the image keeps what the sandbox mirrors (deploy/Dockerfile). */
export const IMAGE = {
  webRoot: '/usr/share/gatehouse/html',
  templates: '/usr/share/gatehouse/nginx',
  entrypoint: '/usr/share/gatehouse/entrypoint.sh',
  tool: '/usr/local/bin/gatehouse-config',
  runtimeDir: '/run/gatehouse',
  uid: 54321, // arbitrary, as OpenShift assigns one
};

/** How the tests run nginx, in the sandbox or not: on loopback, one worker, no access log. */
function serving(port) {
  return { PORT: String(port), LISTEN_ADDRESS: '127.0.0.1', NGINX_ACCESS_LOG: 'off', NGINX_WORKER_PROCESSES: '1' };
}

function requireTool() {
  if (!existsSync(GATEHOUSE_CONFIG)) {
    throw new Error(`${GATEHOUSE_CONFIG} is missing: run "cargo build -p gatehouse-config" first`);
  }
}

/**
 * Runs `gatehouse-config build` on `dir` (short glue names, minified glue, CSP hashes and
 * precompressed copies), as the image's build stage does. Returns its report line.
 */
export function prepareBuild(dir) {
  requireTool();
  return execFileSync(GATEHOUSE_CONFIG, ['build', dir], { encoding: 'utf8', timeout: 120_000 });
}

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

/**
 * Copies dist/ (without trunk's .stage build directory) to `target`, readable by everyone, and
 * prepared for serving. dist/ itself is prepared once per build (the copies are reused).
 * Without `precompressed` the brotli and gzip copies are left out: nginx then compresses on the
 * fly, as the image did before it had them (for the benchmark's comparison).
 */
export function copyDist(dist, target, { precompressed = true } = {}) {
  if (!existsSync(join(dist, 'index.html'))) {
    throw new Error(`${dist}/index.html is missing: run "trunk build --release" first`);
  }
  const hashes = join(dist, 'csp-inline.json');
  if (!existsSync(hashes) || statSync(hashes).mtimeMs < statSync(join(dist, 'index.html')).mtimeMs) {
    prepareBuild(dist);
  }
  cpSync(dist, target, {
    recursive: true,
    filter: (source) => !source.split(/[\\/]/).includes('.stage')
      && (precompressed || !/\.(br|gz)$/.test(source)),
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
export function runEntrypoint({ env = {}, webRoot, runtimeDir, port = 8080, args = ['--config-only'], timeoutMs = 15_000 }) {
  requireTool();
  const childEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    GATEHOUSE_CONFIG,
    WEB_ROOT: webRoot,
    RUNTIME_DIR: runtimeDir,
    ...serving(port),
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

/**
 * The bubblewrap command that runs the image's entrypoint as the container does: an arbitrary
 * UID with GID 0, the host's programs and libraries and the app's files mounted read-only where
 * the image has them, the root remounted read-only, and `runtimeDir` the one writable folder.
 * `command` runs inside (default: the image's entrypoint).
 */
export function sandboxCommand({ webRoot, runtimeDir, env, command = ['/bin/sh', IMAGE.entrypoint] }) {
  const system = ['/usr/bin', '/usr/sbin', '/usr/lib', '/usr/lib64', '/etc'].filter((dir) => existsSync(dir));
  const args = [
    '--unshare-user', '--uid', String(IMAGE.uid), '--gid', '0',
    '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent', '--new-session',
    '--clearenv',
    ...system.flatMap((dir) => ['--ro-bind', dir, dir]),
    '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/sbin', '/sbin', '--symlink', 'usr/lib', '/lib',
    ...(existsSync('/usr/lib64') ? ['--symlink', 'usr/lib64', '/lib64'] : []),
    '--proc', '/proc', '--dev', '/dev',
    '--ro-bind', webRoot, IMAGE.webRoot,
    '--ro-bind', TEMPLATES, IMAGE.templates,
    '--ro-bind', ENTRYPOINT, IMAGE.entrypoint,
    '--ro-bind', GATEHOUSE_CONFIG, IMAGE.tool,
    '--bind', runtimeDir, IMAGE.runtimeDir,
    '--remount-ro', '/',
    '--chdir', '/',
  ];
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined) args.push('--setenv', key, String(value));
  }
  return [...args, ...command];
}

/** A raw GET of `url` (no automatic decompression), bounded: { status, headers, body }. */
export function rawGet(url, headers = {}) {
  return new Promise((ok, fail) => {
    const req = request(url, { headers, timeout: 5_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', fail);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', fail);
    req.end();
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
 * port; `sandbox` runs it all as the read-only, unprivileged container (see sandboxCommand);
 * `precompressed: false` serves the build without its brotli and gzip copies.
 * Returns { url, port, dir, webRoot, runtimeDir, csp, log(), stop() }; `csp` is the policy the
 * tool computed and `log()` what the entrypoint and nginx wrote so far.
 */
export async function startNginx({ dist, env = {}, port = 0, sandbox = false, precompressed = true, timeoutMs = 10_000 } = {}) {
  if (!dist) throw new Error('startNginx: dist is required');
  if (!existsSync(NGINX_BIN)) throw new Error(`${NGINX_BIN} is missing (Debian package nginx)`);
  if (sandbox && !existsSync(BWRAP)) throw new Error(`${BWRAP} is missing (Debian package bubblewrap)`);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-nginx-'));
  chmodSync(dir, 0o755);
  const webRoot = join(dir, 'html');
  const runtimeDir = join(dir, 'run');
  const cleanup = () => rmSync(dir, { recursive: true, force: true });

  try {
    copyDist(dist, webRoot, { precompressed });
    // A port picked by the kernel can be taken by someone else before nginx binds it: retry.
    for (let attempt = 1; ; attempt++) {
      const chosen = port || (await freePort());
      let command;
      let csp = null;
      if (sandbox) {
        mkdirSync(runtimeDir, { recursive: true });
        chmodSync(runtimeDir, 0o775);
        const containerEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', NGINX_BIN, ...serving(chosen), ...env };
        command = [BWRAP, sandboxCommand({ webRoot, runtimeDir, env: containerEnv })];
      } else {
        const configured = await runEntrypoint({ env, webRoot, runtimeDir, port: chosen });
        if (configured.code !== 0) {
          throw new Error(`deploy/entrypoint.sh failed (exit ${configured.code}):\n${configured.stderr}${configured.stdout}`);
        }
        csp = /Content-Security-Policy: (.*)/.exec(configured.stdout)?.[1] ?? null;
        command = [NGINX_BIN, ['-e', 'stderr', '-p', `${runtimeDir}/`, '-c', join(runtimeDir, 'nginx.conf')]];
      }

      const child = spawn(command[0], command[1], {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // its own process group, so workers can be killed with the master
      });
      running.add(child.pid);
      let output = '';
      child.stdout.on('data', (c) => { output += c; });
      child.stderr.on('data', (c) => { output += c; });
      child.once('exit', () => running.delete(child.pid));

      const url = `http://127.0.0.1:${chosen}`;
      try {
        await waitUntilAnswering(`${url}/healthz`, child, () => output, timeoutMs);
      } catch (e) {
        try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
        await waitForExit(child, 2_000);
        if (!port && attempt < 3 && /Address already in use/.test(output)) continue;
        throw e;
      }
      csp ??= /Content-Security-Policy: (.*)/.exec(output)?.[1] ?? null;

      return {
        url,
        port: chosen,
        dir,
        webRoot,
        runtimeDir,
        csp,
        log: () => output,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            // nginx: fast shutdown, the master stops its workers; bubblewrap: its pid namespace
            // ends with it.
            try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
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
