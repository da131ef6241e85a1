// Takes the README screenshots against the real stack: the landing page, the signed-in app with
// the profile panel open, and a reader's API console. Usage: node scripts/screenshot.js [out-dir]  (default docs/)

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { registrations } from '../dev/idp/registrations.js';
import { launch, newPage } from '../tests/e2e/browser.js';
import { Gatehouse } from '../tests/e2e/pages.js';
import { startStack } from '../tests/e2e/stack.js';

const out = resolve(process.argv[2] ?? 'docs');
mkdirSync(out, { recursive: true });
const stack = await startStack();
const browser = await launch();
try {
  const page = await newPage(browser, { viewport: { width: 1100, height: 680 }, appOrigin: stack.appUrl });
  const app = new Gatehouse(page, stack.appUrl);
  await app.open('/');
  await app.testId('sign-in').waitFor();
  await page.screenshot({ path: join(out, 'landing.png') });
  const superuser = registrations[0].users.find((u) => u.username.startsWith('super'));
  await app.testId('sign-in').click();
  await app.idp.signIn(superuser.username, superuser.password);
  await app.testId('user-menu').waitFor();
  await app.openProfile();
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(out, 'signed-in.png') });
  await page.context().close();

  // A reader in the API console: write views greyed out with the role they need.
  const reader = registrations[0].users.find((u) => u.username.startsWith('reader'));
  const page2 = await newPage(browser, { viewport: { width: 1100, height: 680 }, appOrigin: stack.appUrl });
  const app2 = new Gatehouse(page2, stack.appUrl);
  await app2.signIn(reader, '/views/studies');
  await app2.testId('api-status').waitFor();
  await page2.screenshot({ path: join(out, 'console.png') });
  console.log(`screenshots written to ${out}`);
} finally {
  await browser.close();
  await stack.stop();
}
