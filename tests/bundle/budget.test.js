// The size regression guard as a test: the first load of the signed-in app (index.html with its
// inline stylesheet and icon, its js and wasm, and config.json) is at most 320 KB gzip. Bytes, not
// time: the same build always gives the same answer. scripts/bench reports the same figures per
// file; size is a benchmark figure, and this guard only catches a change that adds far more than
// plain code does (a crate pulled in by mistake, a debug build).

import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

import { FIRST_LOAD_BUDGET, firstLoad } from '../../scripts/bundle.js';

const DIST = process.env.GATEHOUSE_DIST ?? join(resolve(import.meta.dirname, '../..'), 'dist');

test('the first load stays under the 320 KB gzip guard', () => {
  const first = firstLoad(DIST);
  const names = first.files.map((r) => r.file.replace(/-[0-9a-f]{1,16}(?=(_bg)?\.)/, ''));
  assert.deepEqual(names.sort(), ['config.json', 'gatehouse.js', 'gatehouse_bg.wasm', 'index.html'],
    'the stylesheet and the icon are inline in index.html');
  const detail = first.files.map((r) => `${r.file} ${r.gzip} B`).join(', ');
  assert.ok(first.gzip <= FIRST_LOAD_BUDGET,
    `first load is ${first.gzip} B gzip, over the guard by ${first.gzip - FIRST_LOAD_BUDGET} B (${detail})`);
});
