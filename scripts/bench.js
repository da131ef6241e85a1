// Benchmark (not a test): release bundle bytes per file (raw, gzip -9, brotli -q 11) and the
// timings a person feels, measured in headless Chromium against the local stack:
//   - load: navigation start → the landing page's sign-in button is visible (cold cache),
//   - sign-in: click "Sign in" → provider form → submit → user-menu visible (full round trip,
//     including code redemption and ID token signature check),
//   - reload: reload of a signed-in page → user-menu visible (session restored from storage).
// Usage: node scripts/bench.js [runs]   (default 7 runs; medians and min/max reported)

import { registrations } from '../dev/idp/registrations.js';
import { launch, newPage } from '../tests/e2e/browser.js';
import { Gatehouse } from '../tests/e2e/pages.js';
import { DIST, startStack } from '../tests/e2e/stack.js';
import { bundleSizes, FIRST_LOAD_BUDGET, firstLoad } from './bundle.js';

const runs = Number(process.argv[2] ?? 7);
const kb = (n) => (n / 1024).toFixed(1).padStart(8);

function bundle() {
  const rows = bundleSizes(DIST);
  console.log(`\nBundle (${DIST})`);
  console.log(`${'file'.padEnd(40)}${'raw KiB'.padStart(9)}${'gzip KiB'.padStart(10)}${'br KiB'.padStart(9)}`);
  const total = { raw: 0, gzip: 0, brotli: 0 };
  for (const r of rows) {
    console.log(`${r.file.padEnd(40)}${kb(r.raw)} ${kb(r.gzip)} ${kb(r.brotli)}`);
    for (const k of Object.keys(total)) total[k] += r[k];
  }
  console.log(`${'total'.padEnd(40)}${kb(total.raw)} ${kb(total.gzip)} ${kb(total.brotli)}`);
  console.log(`(bytes: raw ${total.raw}, gzip ${total.gzip}, brotli ${total.brotli})`);

  const first = firstLoad(DIST);
  const left = FIRST_LOAD_BUDGET - first.gzip;
  console.log(`\nFirst load (${first.files.map((r) => r.file.replace(/-[0-9a-f]{1,16}(?=(_bg)?\.)/, '')).join(', ')}):`);
  console.log(`  raw ${first.raw} B, gzip ${first.gzip} B, brotli ${first.brotli} B;`
    + ` budget 150 KB gzip: ${left >= 0 ? `within, ${left} B to spare` : `over by ${-left} B`}`);
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
