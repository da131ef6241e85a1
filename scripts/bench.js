// Benchmark (not a test): release bundle bytes per file (raw, gzip -9, brotli -q 11) and the
// timings a person feels, measured in headless Chromium against the local stack: the release
// build served by Debian's nginx with the production configuration (so compressed exactly as
// deployed: gzip, and brotli too when nginx's brotli module is installed), the local identity
// provider and the API. Each run starts with an empty cache, and every figure is taken twice:
//   - on loopback, as is;
//   - over an emulated real link, 20 Mbit/s each way and 40 ms round trip (Chrome DevTools
//     Network.emulateNetworkConditions: each request waits 40 ms for its response and the page's
//     bytes share the bandwidth; connection set-up costs no extra round trip, cache hits none).
// The figures:
//   - load: navigation start → the landing page's sign-in button is visible,
//   - sign-in: click "Sign in" → provider form visible, plus click "submit" → user menu visible
//     (the full round trip, code redemption and ID token signature check included; typing
//     excluded),
//   - callback: part of sign-in, from the browser asking for /oauth-callback?code=… to the user
//     menu; the report lists the requests it includes,
//   - callback − token: the same with the token endpoint's time (request sent → response read)
//     taken out, so what remains is the app's own work and the requests it adds; split into
//     "before" (callback requested → token request sent) and "after" (token response read → user
//     menu: the ID token check, the signed-in render); "before" splits again into "commit"
//     (callback requested → the new document starts: the browser's own navigation work, the
//     previous page's unload included, the same for any app) and "start" (the document starts →
//     token request sent: the page loads, the app starts),
//   - reload: reload of a signed-in page → user menu visible (session restored from storage),
//   - view 110K: click on an API view whose API answers with 20,000 numbers (110 KB of JSON) →
//     its status shown (Playwright's clock: the page may be too busy to report it itself),
//   - requests and bytes of a cold sign-in: Playwright `request` events and bytes received, from
//     the first navigation to the user menu.
// The page reports when an element becomes visible (a MutationObserver, the page's clock), so no
// figure carries the delay of polling from here.
// A person reads the sign-in page before clicking: the bench waits DWELL_MS (3 s) there. It
// matters to the callback: Chromium keeps the compiled wasm in its code cache only once the
// module has run for about 2 s (V8's --wasm-caching-timeout-ms), so a click the moment the button
// appears leaves the callback page to compile the wasm again, which no person sees.
// The first load's bytes on the wire are also fetched directly, with the Accept-Encoding Chromium
// sends, from each configuration measured.
// `--hosting-before` adds this build served as the image served it before build-time compression
// (nginx compressing on the fly: gzip level 6, no brotli), interleaved like `--against`.
// `--dpop` adds this build signing in to the IdP speaking DPoP (server nonces on) as its DPoP
// registration: every token request and API call then carries a proof, so the figures side by
// side give what DPoP costs.
// Usage: node scripts/bench.js [runs] [dwell ms] [--against <dist>]... [--hosting-before] [--dpop]   (default 7 runs per link,
// 3000 ms; medians and min/max reported). Each `--against` names another build (a dist folder, say
// of an older commit: `trunk build --release --dist /tmp/dist-old`) measured the same way, its runs
// interleaved with this build's, so a before/after comparison shares the machine's slow moments;
// the report ends with the medians side by side.

import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';

import { registrations } from '../dev/idp/registrations.js';
import { launch, newPage } from '../tests/e2e/browser.js';
import { Gatehouse } from '../tests/e2e/pages.js';
import { DIST, ROOT, startStack } from '../tests/e2e/stack.js';
import { bundleSizes, FIRST_LOAD_BUDGET, firstLoad } from './bundle.js';

const USAGE = 'usage: node scripts/bench.js [runs] [dwell ms] [--against <dist>]... [--hosting-before] [--dpop]'
  + '   (runs: a positive integer; dwell: ms ≥ 0; dist: a folder with a release build)';
const positional = [];
const against = [];
let hostingBefore = false;
let dpop = false;
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--against') against.push(process.argv[++i]);
  else if (process.argv[i] === '--hosting-before') hostingBefore = true;
  else if (process.argv[i] === '--dpop') dpop = true;
  else positional.push(process.argv[i]);
}
const runs = Number(positional[0] ?? 7);
const DWELL_MS = Number(positional[1] ?? 3000);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(DWELL_MS) || DWELL_MS < 0 || positional.length > 2
  || against.some((dist) => !dist || !existsSync(join(dist, 'index.html')))) {
  console.error(USAGE);
  process.exit(2);
}

/** The bound of every wait on the browser. */
const WAIT_MS = 15_000;

const MBIT = 1_000_000 / 8; // bytes per second
const LINKS = [
  { name: 'loopback', conditions: null },
  {
    name: '20 Mbps, 40 ms RTT',
    conditions: { offline: false, latency: 40, downloadThroughput: 20 * MBIT, uploadThroughput: 20 * MBIT },
  },
];

/** What the page reports as soon as it is visible, by name. */
const VISIBLE = {
  'sign-in': '[data-testid="sign-in"]',
  'idp-form': 'input[name=login]',
  'user-menu': '[data-testid="user-menu"]',
};

const kb = (n) => (n / 1024).toFixed(1).padStart(8);

// --- bundle --------------------------------------------------------------------------------

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
    + ` regression guard ${FIRST_LOAD_BUDGET / 1000} KB gzip (${FIRST_LOAD_BUDGET} B):`
    + ` ${left >= 0 ? `under it by ${left} B` : `over it by ${-left} B`}`);
}

// --- in the page: moments, read with the page's clock -----------------------------------------

/**
 * An init script, so it runs in every document of the context (the app's and the provider's)
 * from its start: reports each click, and the first moment each watched element is visible.
 */
function reportMoments(visible) {
  const report = (name) => window.__benchMoment(name, Date.now());
  report('document'); // an init script runs as the document starts, before its HTML is parsed
  window.addEventListener('click', () => report('click'), true);
  const pending = new Map(Object.entries(visible));
  const observer = new MutationObserver(() => {
    for (const [name, selector] of pending) {
      if (document.querySelector(selector)?.checkVisibility()) {
        pending.delete(name);
        report(name);
      }
    }
    if (pending.size === 0) observer.disconnect();
  });
  observer.observe(document, { childList: true, subtree: true, attributes: true });
}

/** The moments a page reported ({ name, at }), with a bounded wait for the next one. */
class Moments {
  constructor(page) {
    this.page = page;
    this.seen = [];
    this.listeners = new Set();
  }

  add(name, at) {
    this.seen.push({ name, at });
    for (const listener of this.listeners) listener();
  }

  /** The time (ms since the epoch) of the first `name` seen at or after `since`, if any. */
  first(name, since) {
    return this.seen.find((m) => m.name === name && m.at >= since)?.at;
  }

  /** Resolves to `first(name, since)`, waiting (bounded) until there is one. */
  next(name, since) {
    const find = () => this.first(name, since);
    return new Promise((ok, fail) => {
      const settle = (f, value) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        f(value);
      };
      const check = () => {
        const at = find();
        if (at !== undefined) settle(ok, at);
      };
      const timer = setTimeout(() => settle(fail, new Error(
        `"${name}" not seen within ${WAIT_MS} ms on ${this.page.url()}; page problems: ${JSON.stringify(this.page.problems)}`,
      )), WAIT_MS);
      this.listeners.add(check);
      check();
    });
  }
}

// --- the network, seen through the Chrome DevTools Protocol ------------------------------------

/** Rejects if `promise` has not settled within WAIT_MS. */
function bounded(promise, what) {
  let timer;
  const timeout = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what}: no answer within ${WAIT_MS} ms`)), WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Emulates `link` on the page (if it has conditions) and logs its requests: one entry per
 * request sent (a redirect's target is a new entry) with its time (ms since the epoch), where the
 * response came from, its content-encoding and the bytes received (headers included).
 */
async function watchNetwork(page, link) {
  const cdp = await bounded(page.context().newCDPSession(page), 'newCDPSession');
  const entries = [];
  const latest = new Map(); // requestId → its newest entry
  cdp.on('Network.requestWillBeSent', (e) => {
    const previous = latest.get(e.requestId);
    if (previous && e.redirectResponse) previous.bytes = e.redirectResponse.encodedDataLength;
    const entry = {
      url: e.request.url, method: e.request.method, type: e.type, at: e.wallTime * 1000,
      sent: e.timestamp, done: null, status: null, cached: false, encoding: null, bytes: 0,
    };
    entries.push(entry);
    latest.set(e.requestId, entry);
  });
  cdp.on('Network.requestServedFromCache', (e) => {
    const entry = latest.get(e.requestId);
    if (entry) entry.cached = true;
  });
  cdp.on('Network.responseReceived', (e) => {
    const entry = latest.get(e.requestId);
    if (!entry) return;
    const headers = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    entry.status = e.response.status;
    entry.cached ||= Boolean(e.response.fromDiskCache || e.response.fromPrefetchCache);
    entry.encoding = headers['content-encoding'] ?? null;
  });
  cdp.on('Network.loadingFinished', (e) => {
    const entry = latest.get(e.requestId);
    if (!entry) return;
    entry.bytes = e.encodedDataLength;
    entry.done = e.timestamp;
  });
  await bounded(cdp.send('Network.enable'), 'Network.enable');
  if (link.conditions) {
    await bounded(cdp.send('Network.emulateNetworkConditions', link.conditions), 'Network.emulateNetworkConditions');
  }
  return entries;
}

// --- one run: a cold sign-in, then a reload ----------------------------------------------------

/** A fresh browser context (empty cache and storage) on `link`, watched. */
async function openPage(browser, stack, link) {
  const page = await newPage(browser);
  const moments = new Moments(page);
  await page.context().exposeBinding('__benchMoment', (_source, name, at) => moments.add(name, at));
  await page.context().addInitScript(reportMoments, VISIBLE);
  const network = await watchNetwork(page, link);
  const requests = { count: 0 };
  page.on('request', () => { requests.count += 1; });
  return { page, app: new Gatehouse(page, stack.appUrl), moments, network, requests };
}

/** Navigation start → sign-in button visible. */
async function measureLoad({ app, moments }) {
  const start = Date.now();
  const [visible] = await Promise.all([moments.next('sign-in', start), app.open('/')]);
  return visible - start;
}

/** Click "Sign in" → provider form; click "submit" → user menu. Returns times in ms. */
async function measureSignIn({ page, app, moments }, user) {
  await page.waitForTimeout(DWELL_MS); // reading the page
  let since = Date.now();
  await app.testId('sign-in').click();
  const signInClick = await moments.next('click', since);
  const form = await moments.next('idp-form', signInClick);
  await page.fill('input[name=login]', user.username);
  await page.fill('input[name=password]', user.password);
  since = Date.now();
  await page.click('button[type=submit]:not([name=cancel])');
  const submitClick = await moments.next('click', since);
  const menu = await moments.next('user-menu', submitClick);
  return { signIn: (form - signInClick) + (menu - submitClick), menu };
}

/** An API view of 20,000 numbers (110 KB of JSON): click on its entry → its status shown. */
const LARGE_VIEW = { id: 'numbers', title: '20,000 numbers', path: '/stress/numbers/20000', roles: [] };

async function measureLargeView({ app }) {
  const start = Date.now();
  await app.testId(`view-${LARGE_VIEW.id}`).click();
  await app.testId('api-status').waitFor({ timeout: 120_000 });
  return Date.now() - start;
}

/** Reload → user menu visible. */
async function measureReload({ page, moments }) {
  const start = Date.now();
  const [menu] = await Promise.all([moments.next('user-menu', start), page.reload()]);
  return menu - start;
}

/**
 * The callback document's request, the requests from it to `menu`, their duration, and the
 * duration without the token endpoint's time (request sent → response fully read, CDP's
 * monotonic clock).
 */
function callbackPhase(network, appUrl, menu, moments) {
  const isCallback = (e) => e.type === 'Document' && e.url.startsWith(`${appUrl}/oauth-callback`);
  const landing = network.filter((e) => isCallback(e) && e.at <= menu).at(-1);
  if (!landing) throw new Error('no request for /oauth-callback before the user menu');
  const requests = network.filter((e) => e.at >= landing.at && e.at <= menu);
  const token = requests.filter((e) => e.method === 'POST' && new URL(e.url).pathname.endsWith('/token'));
  // One token request, or two where the provider demands a DPoP nonce first (RFC 9449 §8).
  if (token.length < 1 || token.length > 2 || token.some((t) => t.done === null)) {
    throw new Error(`expected one or two finished token requests in the callback, saw ${token.length}: ${JSON.stringify(token)}`);
  }
  const tokenMs = token.reduce((ms, t) => ms + (t.done - t.sent) * 1000, 0);
  // Before the token request: the callback page loads and the app starts; after its response:
  // the ID token check and the first signed-in render.
  const beforeToken = (token[0].sent - landing.sent) * 1000;
  const started = moments.first('document', landing.at);
  if (started === undefined) throw new Error('the callback document never started');
  const commit = started - landing.at;
  return {
    ms: menu - landing.at, withoutToken: menu - landing.at - tokenMs, tokenMs, requests,
    beforeToken, commit, start: beforeToken - commit, afterToken: menu - landing.at - tokenMs - beforeToken,
  };
}

async function run(browser, stack, link, user) {
  const ctx = await openPage(browser, stack, link);
  try {
    const load = await measureLoad(ctx);
    const { signIn, menu } = await measureSignIn(ctx, user);
    // The app may read a streamed body to its end before DevTools reports the load finished.
    const tokenDone = () => ctx.network.some((e) => e.method === 'POST' && e.url.endsWith('/token') && e.done !== null);
    for (let waited = 0; !tokenDone() && waited < 2_000; waited += 50) await ctx.page.waitForTimeout(50);
    const requests = ctx.requests.count; // the user menu is visible: the cold sign-in is over
    const coldSignIn = ctx.network.filter((e) => e.at <= menu);
    const bytes = coldSignIn.reduce((n, e) => n + e.bytes, 0);
    const callback = callbackPhase(ctx.network, stack.appUrl, menu, ctx.moments);
    const reload = await measureReload(ctx);
    const largeView = await measureLargeView(ctx);
    const wasm = ctx.network.find((e) => e.url.startsWith(stack.appUrl) && e.url.endsWith('.wasm') && !e.cached);
    return {
      load, signIn, callback, reload, largeView, requests, bytes, coldSignIn, wasmEncoding: wasm?.encoding ?? 'identity',
    };
  } finally {
    await ctx.page.context().close();
  }
}

// --- report ----------------------------------------------------------------------------------

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function summary(name, xs, unit = 'ms', format = (x) => x.toFixed(0)) {
  const cell = (x) => format(x).padStart(7);
  console.log(`${name.padEnd(10)} median ${cell(median(xs))} ${unit.padEnd(3)} min ${cell(Math.min(...xs))}   max ${cell(Math.max(...xs))}   (n=${xs.length})`);
}

/** One request, for the report: where its response came from, then what and where it was. */
function describe(entry, stack) {
  const url = new URL(entry.url);
  const origins = { [stack.appUrl]: 'app', [new URL(stack.idp.issuer).origin]: 'idp', [stack.apiUrl]: 'api' };
  const from = entry.cached ? 'cache' : `${entry.status ?? '-'} ${entry.encoding ?? 'identity'} ${entry.bytes} B`;
  return [from.padEnd(20), entry.method.padEnd(5), (entry.type ?? '').padEnd(11), origins[url.origin] ?? url.origin, url.pathname].join(' ');
}

/** The callback's figures of a run, by name, in the order both reports print them. */
const CALLBACK_FIGURES = [
  ['callback', (r) => r.callback.ms], ['− token', (r) => r.callback.withoutToken], ['token', (r) => r.callback.tokenMs],
  [' before', (r) => r.callback.beforeToken], ['  commit', (r) => r.callback.commit],
  ['  start', (r) => r.callback.start], [' after', (r) => r.callback.afterToken],
];

function report(link, results, stack, dist) {
  const all = (k) => results.map((r) => r[k]);
  const encodings = [...new Set(all('wasmEncoding'))].join(', ');
  console.log(`\nTimings of ${dist}, ${link.name} (headless Chromium, local IdP; nginx sent the wasm as ${encodings}; ${DWELL_MS} ms on the sign-in page and typing time excluded)`);
  summary('load', all('load'));
  summary('sign-in', all('signIn'));
  for (const [name, of] of CALLBACK_FIGURES) summary(name, results.map(of));
  summary('reload', all('reload'));
  summary('view 110K', all('largeView'));
  summary('requests', all('requests'), '');
  summary('received', all('bytes'), 'KiB', (x) => (x / 1024).toFixed(1));
  const lastRun = results.at(-1);
  console.log(`cold sign-in: these ${lastRun.coldSignIn.length} requests (last run; CDP, cache hits included):`);
  for (const entry of lastRun.coldSignIn) console.log(`  ${describe(entry, stack)}`);
  const last = lastRun.callback;
  console.log('callback: request for /oauth-callback?code=… → user menu; "− token" is the same without the token');
  console.log('endpoint\'s time (request sent → response read). It includes the app starting again on the');
  console.log('callback page (its hashed files from the cache), the ID token signature check, the first signed-in');
  console.log(`render and these ${last.requests.length} requests (last run):`);
  for (const entry of last.requests) console.log(`  ${describe(entry, stack)}`);
}

/** The medians of every build side by side, per link, and this build's ([0]) change against each. */
function compare(builds) {
  const figures = [['load', (r) => r.load], ...CALLBACK_FIGURES, ['view 110K', (r) => r.largeView]];
  console.log(`\nCompared (medians, ms; runs interleaved): ${builds.map((b, i) => `[${i}] ${b.label}`).join(', ')}`);
  for (const link of LINKS) {
    console.log(link.name);
    for (const [name, of] of figures) {
      const ms = builds.map((b) => median(b.results.get(link).map(of)));
      const change = ms.slice(1).map((x, i) => `[0] vs [${i + 1}]: ${x === 0 ? '-' : `${(((ms[0] - x) / x) * 100).toFixed(0)}%`}`);
      console.log(`  ${name.padEnd(9)} ${ms.map((x) => x.toFixed(0).padStart(6)).join('')}   ${change.join(', ')}`);
    }
  }
}

/** What Chromium asks for (seen in its requests to the app). */
const CHROMIUM_ACCEPT_ENCODING = 'gzip, deflate, br, zstd';

/** A GET's body size and encoding as sent (no decompression), bounded. */
function wire(url) {
  return new Promise((ok, fail) => {
    const req = request(url, { headers: { 'accept-encoding': CHROMIUM_ACCEPT_ENCODING }, timeout: 10_000 }, (res) => {
      let bytes = 0;
      res.on('data', (c) => { bytes += c.length; });
      res.on('end', () => ok({ bytes, encoding: res.headers['content-encoding'] ?? 'identity' }));
      res.on('error', fail);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', fail);
    req.end();
  });
}

/** The first load's files as each configuration sends them over the wire. */
async function wireBytes(builds) {
  console.log(`\nFirst load on the wire (response bodies, Accept-Encoding: ${CHROMIUM_ACCEPT_ENCODING})`);
  for (const [i, build] of builds.entries()) {
    const { url } = build.stack.web;
    const files = ['/', ...firstLoad(build.dist).files.map((r) => `/${r.file}`).filter((f) => f !== '/index.html')];
    let total = 0;
    const cells = [];
    for (const file of files) {
      const sent = await wire(`${url}${file}`);
      total += sent.bytes;
      cells.push(`${file === '/' ? 'index.html' : file.slice(1).replace(/-[0-9a-f]{1,16}(?=(_bg)?\.)/, '')} ${sent.bytes} B ${sent.encoding}`);
    }
    console.log(`  [${i}] ${build.label}: ${total} B — ${cells.join(', ')}`);
  }
}

/**
 * What a DPoP proof costs the page: the median time of one ES256 signature by WebCrypto with a
 * non-extractable P-256 key (a proof's only expensive step; its JSON and base64 are microseconds),
 * over 600 signatures of a proof-sized input, on the app's origin.
 */
async function proofCost(browser, stack) {
  const page = await newPage(browser, { appOrigin: stack.appUrl });
  try {
    await page.goto(`${stack.appUrl}/healthz`);
    // The page's clock is coarse (0.1 ms): each sample times 20 signatures in a row.
    const times = await page.evaluate(async () => {
      const { privateKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
      const input = new TextEncoder().encode('h'.repeat(180) + '.' + 'c'.repeat(260));
      const out = [];
      for (let i = 0; i < 30; i++) {
        const start = performance.now();
        for (let j = 0; j < 20; j++) await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, input);
        out.push((performance.now() - start) / 20);
      }
      return out;
    });
    const sorted = [...times].sort((a, b) => a - b);
    console.log(`\nDPoP proof: one ES256 signature by WebCrypto (non-extractable P-256 key), median ${sorted[15].toFixed(3)} ms, slowest ${sorted[29].toFixed(3)} ms (30 samples of 20)`);
  } finally {
    await page.context().close();
  }
}

async function timings() {
  const user = registrations[0].users[0];
  const builds = [DIST, ...against].map((dist) => ({ dist, label: dist, options: {}, stack: null }));
  if (hostingBefore) {
    builds.push({
      dist: DIST,
      label: `${DIST}, compressed on the fly (gzip 6, no brotli)`,
      options: { precompressed: false, config: { BROTLI: 'off' } },
      stack: null,
    });
  }
  if (dpop) {
    builds.push({
      dist: DIST,
      label: `${DIST}, DPoP-bound tokens`,
      options: { dpop: true, registration: registrations.find((r) => r.name === 'StudyBuilder DPoP') },
      stack: null,
    });
  }
  for (const build of builds) build.results = new Map(LINKS.map((l) => [l, []]));
  const browser = await launch();
  try {
    // The configuration's views, and one whose API answers with 20,000 numbers.
    const views = [...JSON.parse(readFileSync(join(ROOT, 'public/config.json'), 'utf8')).VIEWS, LARGE_VIEW];
    for (const build of builds) {
      const { config = {}, ...options } = build.options;
      build.stack = await startStack({ dist: build.dist, ...options, config: { VIEWS: views, ...config } });
    }
    await wireBytes(builds);
    if (dpop) await proofCost(browser, builds.at(-1).stack);
    // Links and builds alternate (the builds' order turns each round), so a slow moment of the
    // machine does not land on one only.
    for (let i = 0; i < runs; i++) {
      for (let j = 0; j < builds.length; j++) {
        const build = builds[(i + j) % builds.length];
        for (const link of LINKS) build.results.get(link).push(await run(browser, build.stack, link, user));
      }
    }
  } finally {
    await browser.close();
    for (const build of builds) await build.stack?.stop();
  }
  for (const build of builds) {
    for (const link of LINKS) report(link, build.results.get(link), build.stack, build.label);
  }
  if (builds.length > 1) compare(builds);
}

bundle();
await timings();
