// Launches Debian's Chromium through playwright-core (which cannot download browsers here) with
// the flags this machine needs, and records page errors, console errors and CSP violations.

import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launch() {
  // Playwright gives every browser a fresh, empty profile directory.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000 });
}

/**
 * A new page whose errors are collected in `page.problems` and whose Content-Security-Policy
 * violations (reported by the browser's `securitypolicyviolation` event, on every document the
 * page loads) in `page.csp`.
 */
export async function newPage(browser, options = {}) {
  const { appOrigin, ...contextOptions } = options;
  const context = await browser.newContext(contextOptions);
  context.setDefaultTimeout(15_000);
  const csp = [];
  await context.exposeBinding('__gatehouseCspViolation', ({ frame }, v) => csp.push({ page: frame.url(), ...v }));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__gatehouseCspViolation({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
    });
  });
  const page = await context.newPage();
  page.csp = csp;
  page.appOrigin = appOrigin;
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location()?.url ?? '';
    // The identity provider's own pages (no favicon there) are not the app's problem.
    if (appOrigin && where && !where.startsWith(appOrigin)) return;
    page.problems.push(`console: ${m.text()} (${where})`);
  });
  return page;
}

/** Ends a test's page: fails on any CSP violation seen on the app, then closes the context. */
export async function finish(page) {
  const violations = page.csp.filter((v) => !page.appOrigin || v.page.startsWith(page.appOrigin));
  await page.context().close();
  if (violations.length) {
    throw new Error(`Content-Security-Policy violations:\n${JSON.stringify(violations, null, 2)}`);
  }
}
