// Bundle sizes of a release build: every file of dist/ (raw, gzip -9, brotli -q 11), and the
// first load of the signed-in app (index.html, what it references, and config.json), which the
// size budget applies to. Shared by scripts/bench.js (report) and tests/bundle (budget).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** The regression guard on the first load, in gzip bytes (320 KB; docs/size.md says why). */
export const FIRST_LOAD_BUDGET = 320 * 1000;

/**
 * Sizes of every file at the top of `dist`, largest first. A build prepared for serving
 * (`gatehouse-config build`) also holds each file's `.gz` and `.br` copy, which are encodings of
 * these files, and `csp-inline.json`, which is not served: they are left out.
 */
export function bundleSizes(dist) {
  return readdirSync(dist)
    .filter((f) => statSync(join(dist, f)).isFile())
    .filter((f) => !/\.(gz|br)$/.test(f) && f !== 'csp-inline.json')
    .map((f) => {
      const data = readFileSync(join(dist, f));
      return {
        file: f,
        raw: data.length,
        gzip: gzipSync(data, { level: 9 }).length,
        brotli: brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
      };
    })
    .sort((a, b) => b.raw - a.raw);
}

/** The files of the first load and their summed sizes. */
export function firstLoad(dist) {
  const index = readFileSync(join(dist, 'index.html'), 'utf8');
  const files = bundleSizes(dist).filter(
    (r) => r.file === 'index.html' || r.file === 'config.json' || index.includes(`/${r.file}`),
  );
  const sum = (k) => files.reduce((n, r) => n + r[k], 0);
  return { files, raw: sum('raw'), gzip: sum('gzip'), brotli: sum('brotli') };
}
