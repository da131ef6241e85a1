// The per-suite fixture: `useStack(options)` inside a `describe` starts the stack and a browser
// before its tests and stops both after them; `ctx.newApp()` opens a fresh browser context on the
// app with its page object.

import { after, before } from 'node:test';

import { launch, newPage } from './browser.js';
import { Gatehouse } from './pages.js';
import { startStack } from './stack.js';

export function useStack(options = {}) {
  const ctx = {
    stack: undefined,
    browser: undefined,
    /** A new page (own cookies and storage) and its `Gatehouse` page object. */
    async newApp(contextOptions = {}) {
      const page = await newPage(ctx.browser, { appOrigin: ctx.stack.appUrl, ...contextOptions });
      return { page, app: new Gatehouse(page, ctx.stack.appUrl) };
    },
  };
  before(async () => {
    ctx.stack = await startStack(options);
    ctx.browser = await launch();
  });
  after(async () => {
    await ctx.browser?.close();
    await ctx.stack?.stop();
  });
  return ctx;
}

/**
 * The test oracle for role gates: whether `held` roles grant any of `any` (none required: yes).
 * Write implies read of the same resource, clinical-mdr-api's rule.
 */
export function grantsAny(held, any) {
  const grants = (required) => held.includes(required)
    || (required.endsWith('.Read') && held.includes(required.replace(/\.Read$/, '.Write')));
  return any.length === 0 || any.some(grants);
}
