// The size budget as a test: the first load of the signed-in app (index.html, its
// js, wasm, css and icon, and config.json) is at most 240 KB gzip. Bytes, not time: the same
// build always gives the same answer. scripts/bench reports the same figures per file.

import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

import { FIRST_LOAD_BUDGET, firstLoad } from '../../scripts/bundle.js';

const DIST = process.env.GATEHOUSE_DIST ?? join(resolve(import.meta.dirname, '../..'), 'dist');

test('the first load fits the 240 KB gzip budget', () => {
  const first = firstLoad(DIST);
  const names = first.files.map((r) => r.file.replace(/-[0-9a-f]{1,16}(?=(_bg)?\.)/, ''));
  for (const part of ['index.html', 'config.json', 'gatehouse.js', 'gatehouse_bg.wasm', 'main.css']) {
    assert.ok(names.includes(part), `${part} is part of the first load: ${names.join(', ')}`);
  }
  const detail = first.files.map((r) => `${r.file} ${r.gzip} B`).join(', ');
  assert.ok(first.gzip <= FIRST_LOAD_BUDGET,
    `first load is ${first.gzip} B gzip, over the budget by ${first.gzip - FIRST_LOAD_BUDGET} B (${detail})`);
});
