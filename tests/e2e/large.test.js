// End to end: an API view whose API answers with a very large body. However large the answer,
// the page stays responsive: the tree makes a section's members only when it is opened, a
// hundred at a time, and the console reads at most a megabyte, saying so, and shows a quarter
// of a megabyte of text. A long-task observer sees every task that blocks the page.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { registrations } from '../../dev/idp/registrations.js';
import { finish } from './browser.js';
import { useStack } from './fixture.js';

const reader = registrations[0].users.find((u) => u.username.startsWith('reader'));
const VIEWS = [
  { id: 'numbers', title: '100,000 numbers', path: '/stress/numbers/100000', roles: [] },
  { id: 'huge', title: '800,000 numbers', path: '/stress/numbers/800000', roles: [] },
];

/** Records the duration of every long task (50 ms or more) the page runs. */
function watchLongTasks() {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__longTasks.push(Math.round(entry.duration));
  }).observe({ type: 'longtask', buffered: true });
}

async function longestTask(page) {
  return page.evaluate(() => Math.max(0, ...window.__longTasks));
}

/** The observer sees a task of the page that blocks for 120 ms: the measure can fail. */
async function assertObserverWorks(page) {
  await page.evaluate(() => new Promise((done) => setTimeout(() => {
    const t = performance.now();
    while (performance.now() - t < 120) { /* busy */ }
    done();
  }, 0)));
  await page.waitForFunction(() => window.__longTasks.some((ms) => ms >= 100));
  await page.evaluate(() => { window.__longTasks = []; });
}

/** Opens the view `id` from the navigation; the time from the click to its status shown. */
async function openView(app, id) {
  const started = Date.now();
  await app.testId(`view-${id}`).click();
  await app.testId('api-status').waitFor({ timeout: 30_000 });
  return Date.now() - started;
}

describe('large answers', () => {
  const ctx = useStack({ config: { VIEWS } });

  test('an answer of 100,000 numbers (590 KB) shows as a tree of a hundred, a page at a time', async () => {
    const { page, app } = await ctx.newApp();
    await page.context().addInitScript(watchLongTasks);
    await app.signIn(reader);
    await assertObserverWorks(page);
    const ms = await openView(app, 'numbers');
    const members = app.page.locator('[data-testid=api-result] li');
    assert.equal(await members.count(), 100, 'the first hundred only');
    assert.match(await app.testId('json-more').innerText(), /^… 99900 more$/);
    await app.testId('json-more').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=api-result] li').length === 200);
    const longest = await longestTask(page);
    console.log(`100,000 numbers: shown ${ms} ms after the click; longest task ${longest} ms`);
    assert.ok(longest < 1_000, `a task blocked the page for ${longest} ms`);
    await finish(page);
  });

  test('an answer of 5.4 MB is read up to a megabyte, said so, and shown as text in part', async () => {
    const { page, app } = await ctx.newApp();
    await page.context().addInitScript(watchLongTasks);
    await app.signIn(reader);
    await assertObserverWorks(page);
    const ms = await openView(app, 'huge');
    await app.testId('api-truncated').waitFor();
    assert.match(await app.testId('api-truncated').innerText(), /larger than 1 MB/);
    const text = await page.locator('[data-testid=api-result] pre').innerText();
    assert.equal(text.length, 256 * 1024, 'a quarter of a megabyte of text');
    assert.ok(text.startsWith('[0,1,2,3,'));
    assert.match(await app.testId('api-text-cut').innerText(), /^… 786432 more bytes not shown$/);
    assert.equal(await page.locator('[data-testid=api-result] li').count(), 0, 'no tree');
    const longest = await longestTask(page);
    console.log(`800,000 numbers: shown ${ms} ms after the click; longest task ${longest} ms`);
    assert.ok(longest < 1_000, `a task blocked the page for ${longest} ms`);
    await finish(page);
  });
});
