// End to end: the shell works with the keyboard alone, fits a phone screen, and navigates in-app
// with working back and forward buttons.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { registrations } from '../../dev/idp/registrations.js';
import { finish } from './browser.js';
import { useStack } from './fixture.js';

const reader = registrations[0].users.find((u) => u.username.startsWith('reader'));

/** Presses Tab until the element with `testId` has focus (bounded). */
async function tabTo(page, testId, max = 25) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((id) => document.activeElement?.dataset?.testid === id, testId)) return;
  }
  throw new Error(`${testId} not reachable with Tab`);
}

describe('keyboard and small screens', () => {
  const ctx = useStack();

  test('sign in, open the profile, close it and sign out with the keyboard only', async () => {
    const { page, app } = await ctx.newApp();
    await app.open('/');
    await app.testId('sign-in').waitFor();
    await tabTo(page, 'sign-in');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).boxShadow);
    assert.notEqual(outline, 'none', 'focus is visible');
    await page.keyboard.press('Enter');
    await app.idp.waitFor();
    await page.keyboard.type(reader.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(reader.password);
    await page.keyboard.press('Enter');
    await app.testId('user-menu').waitFor();

    await tabTo(page, 'user-menu');
    await page.keyboard.press('Enter');
    await app.testId('profile-panel').waitFor();
    assert.equal(await app.testId('user-menu').getAttribute('aria-expanded'), 'true');
    await page.keyboard.press('Escape');
    await app.testId('profile-panel').waitFor({ state: 'detached' });
    assert.equal(await app.testId('user-menu').getAttribute('aria-expanded'), 'false');

    await page.keyboard.press('Enter');
    await app.testId('profile-panel').waitFor();
    await tabTo(page, 'sign-out');
    await page.keyboard.press('Enter');
    await app.testId('sign-in').waitFor();
    await finish(page);
  });

  test('while the countdown ticks, focus stays on the panel\'s buttons and only its text changes', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(reader);
    await app.openProfile();
    await tabTo(page, 'refresh-now');
    const changes = await page.evaluate(async () => {
      const panel = document.querySelector('[data-testid=profile-panel]');
      const seen = [];
      const observer = new MutationObserver((records) => {
        for (const r of records) {
          const where = (r.target.nodeType === Node.TEXT_NODE ? r.target.parentElement : r.target)?.dataset?.testid;
          seen.push(`${r.type} ${where ?? r.target.nodeName}`);
        }
      });
      observer.observe(panel, { subtree: true, childList: true, attributes: true, characterData: true });
      await new Promise((done) => setTimeout(done, 2_500));
      observer.disconnect();
      return seen;
    });
    assert.ok(changes.length >= 2, `the countdown ticked: ${changes}`);
    for (const change of changes) {
      assert.ok(['characterData token-expiry', 'characterData session-ends'].includes(change),
        `only the countdowns' text changes: ${change}`);
    }
    assert.equal(await page.evaluate(() => document.activeElement?.dataset?.testid), 'refresh-now');
    await finish(page);
  });

  test('on a phone the app fits the screen and the panel stays inside it', async () => {
    const { page, app } = await ctx.newApp({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    await app.signIn(reader);
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(await overflow() <= 0, 'no horizontal scrolling on the start page');
    await app.testId('view-studies').click();
    await app.testId('api-status').waitFor();
    assert.ok(await overflow() <= 0, 'no horizontal scrolling in the API console');
    await app.openProfile();
    const box = await app.testId('profile-panel').boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 375, `panel inside the screen: ${JSON.stringify(box)}`);
    // A tap outside closes it.
    await page.mouse.click(20, 600);
    await app.testId('profile-panel').waitFor({ state: 'detached' });
    await finish(page);
  });

  test('links move in-app without a reload; back and forward follow; the current link is marked', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(reader);
    // A marker on the window survives only if the document is never reloaded.
    await page.evaluate(() => { window.__sameDocument = true; });

    await app.testId('view-studies').click();
    await app.testId('api-status').waitFor();
    assert.equal(new URL(page.url()).pathname, '/views/studies');
    assert.equal(await app.testId('view-studies').getAttribute('aria-current'), 'page');
    assert.equal(await app.testId('view-me').getAttribute('aria-current'), null);

    await app.testId('view-me').click();
    await page.getByTestId('api-result').filter({ hasText: 'reader' }).waitFor();
    assert.equal(await app.testId('view-me').getAttribute('aria-current'), 'page');

    await page.goBack();
    await page.waitForURL(/\/views\/studies$/);
    await app.testId('api-status').waitFor();
    assert.equal(await app.testId('view-studies').getAttribute('aria-current'), 'page');
    await page.goBack();
    await page.waitForURL((u) => u.pathname === '/');
    await page.getByRole('heading', { name: /Welcome/ }).waitFor();
    await page.goForward();
    await app.testId('api-status').waitFor();
    assert.equal(new URL(page.url()).pathname, '/views/studies');

    await page.getByRole('link', { name: 'Home' }).click();
    await page.getByRole('heading', { name: /Welcome/ }).waitFor();
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload');
    await finish(page);
  });
});

describe('long pages', () => {
  // Enough views that the navigation alone is taller than the window.
  const VIEWS = Array.from({ length: 40 }, (_, i) => ({ id: `me-${i}`, title: `Who am I, take ${i}`, path: '/me' }));
  const ctx = useStack({ config: { VIEWS } });

  test('a new page starts at the top, as after a page load', async () => {
    const { page, app } = await ctx.newApp();
    await app.signIn(reader);
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    assert.ok(await page.evaluate(() => window.scrollY) > 0, 'the page is long enough to scroll');
    // A DOM click: Playwright's own click would first scroll the link into view.
    await app.testId('view-me-39').evaluate((link) => link.click());
    await app.testId('api-status').waitFor();
    assert.equal(new URL(page.url()).pathname, '/views/me-39');
    assert.equal(await page.evaluate(() => window.scrollY), 0);
    await finish(page);
  });
});
