// Benchmark (not a test): release bundle bytes per file (raw, gzip -9, brotli -q 11) and the
// timings a person feels, measured in headless Chromium against the local stack:
//   - load: navigation start → the landing page's sign-in button is visible (cold cache),
//   - sign-in: click "Sign in" → provider form → submit → user-menu visible (full round trip,
//     including code redemption and ID token signature check),
//   - reload: reload of a signed-in page → user-menu visible (session restored from storage).
// Usage: node scripts/bench.js [runs]   (default 7 runs; medians and min/max reported)

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

import { registrations } from '../dev/idp/registrations.js';
import { launch, newPage } from '../tests/e2e/browser.js';
import { Gatehouse } from '../tests/e2e/pages.js';
import { DIST, startStack } from '../tests/e2e/stack.js';

const runs = Number(process.argv[2] ?? 7);
const kb = (n) => (n / 1024).toFixed(1).padStart(8);

function bundle() {
  const rows = readdirSync(DIST)
    .filter((f) => statSync(join(DIST, f)).isFile())
    .map((f) => {
      const data = readFileSync(join(DIST, f));
      return {
        file: f,
        raw: data.length,
        gzip: gzipSync(data, { level: 9 }).length,
        brotli: brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
      };
    })
    .sort((a, b) => b.raw - a.raw);
  console.log(`\nBundle (${DIST})`);
  console.log(`${'file'.padEnd(40)}${'raw KiB'.padStart(9)}${'gzip KiB'.padStart(10)}${'br KiB'.padStart(9)}`);
  const total = { raw: 0, gzip: 0, brotli: 0 };
  for (const r of rows) {
    console.log(`${r.file.padEnd(40)}${kb(r.raw)} ${kb(r.gzip)} ${kb(r.brotli)}`);
    for (const k of Object.keys(total)) total[k] += r[k];
  }
  console.log(`${'total'.padEnd(40)}${kb(total.raw)} ${kb(total.gzip)} ${kb(total.brotli)}`);
  console.log(`(bytes: raw ${total.raw}, gzip ${total.gzip}, brotli ${total.brotli})`);

  // The first load of the signed-in app: index.html, what it references, and config.json.
  const index = readFileSync(join(DIST, 'index.html'), 'utf8');
  const firstLoad = rows.filter((r) => r.file === 'index.html' || r.file === 'config.json' || index.includes(`/${r.file}`));
  const sum = (k) => firstLoad.reduce((n, r) => n + r[k], 0);
  const budget = 150 * 1000;
  console.log(`\nFirst load (${firstLoad.map((r) => r.file.replace(/-[0-9a-f]{16}/, '')).join(', ')}):`);
  console.log(`  raw ${sum('raw')} B, gzip ${sum('gzip')} B, brotli ${sum('brotli')} B;`
    + ` budget 150 KB gzip: ${sum('gzip') <= budget ? 'within' : `over by ${sum('gzip') - budget} B`}`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (name, xs) =>
  console.log(`${name.padEnd(10)} median ${median(xs).toFixed(0).padStart(5)} ms   min ${Math.min(...xs).toFixed(0).padStart(5)}   max ${Math.max(...xs).toFixed(0).padStart(5)}   (n=${xs.length})`);

async function timings() {
  const user = registrations[0].users[0];
  const stack = await startStack();
  const browser = await launch();
  const load = [];
  const signIn = [];
  const reload = [];
  try {
    for (let i = 0; i < runs; i++) {
      const page = await newPage(browser);
      const app = new Gatehouse(page, stack.appUrl);
      let t = performance.now();
      await app.open('/');
      await app.testId('sign-in').waitFor();
      load.push(performance.now() - t);
      await app.testId('sign-in').click();
      t = performance.now();
      await app.idp.waitFor();
      const toForm = performance.now() - t;
      await page.fill('input[name=login]', user.username);
      await page.fill('input[name=password]', user.password);
      t = performance.now();
      await page.click('button[type=submit]:not([name=cancel])');
      await app.testId('user-menu').waitFor();
      signIn.push(toForm + performance.now() - t);
      t = performance.now();
      await page.reload();
      await app.testId('user-menu').waitFor();
      reload.push(performance.now() - t);
      await page.context().close();
    }
  } finally {
    await browser.close();
    await stack.stop();
  }
  console.log('\nTimings (headless Chromium, loopback, local IdP; typing time excluded)');
  summary('load', load);
  summary('sign-in', signIn);
  summary('reload', reload);
}

bundle();
await timings();
