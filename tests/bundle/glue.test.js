// The build as served: `gatehouse-config build` has given the imports between the wasm and its
// glue short names and minified the glue, and index.html's integrity hashes name the files as
// they are now (a browser refuses a preload whose hash does not match). The browser tests sign
// in through this build; these checks say what is wrong when they cannot.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const DIST = process.env.GATEHOUSE_DIST ?? join(resolve(import.meta.dirname, '../..'), 'dist');
const file = (suffix) => readdirSync(DIST).find((f) => f.endsWith(suffix));

test('the wasm imports its minified glue under short names, each one a key of the glue', () => {
  const wasm = new WebAssembly.Module(readFileSync(join(DIST, file('_bg.wasm'))));
  const glue = readFileSync(join(DIST, file('.js')), 'utf8');
  const imports = WebAssembly.Module.imports(wasm);
  assert.ok(imports.length > 100, `${imports.length} imports`);
  for (const { name } of imports) {
    assert.ok(name.length <= 2, `import ${name} kept its long name: run gatehouse-config build`);
    assert.match(glue, new RegExp(`[{,]${name}:function`), `import ${name} is not a key of the glue`);
  }
});

test("index.html's integrity hashes are the served files' hashes", () => {
  const index = readFileSync(join(DIST, 'index.html'), 'utf8');
  for (const name of [file('_bg.wasm'), file('.js')]) {
    const hash = createHash('sha384').update(readFileSync(join(DIST, name))).digest('base64');
    assert.ok(index.includes(`/${name}`), `index.html does not load ${name}`);
    assert.ok(index.includes(`sha384-${hash}`),
      `${name}: index.html's integrity hash is not the file's (sha384-${hash})`);
  }
});
