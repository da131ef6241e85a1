// scripts/bench-round-trips builds its baseline by applying scripts/round-trips-baseline.patch to
// HEAD: the patch must keep applying to the code it changes, or the comparison cannot be made.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');

test('the round-trip baseline patch applies to the current code', () => {
  try {
    execFileSync('git', ['apply', '--check', 'scripts/round-trips-baseline.patch'], { cwd: ROOT, stdio: 'pipe' });
  } catch (error) {
    assert.fail(`scripts/round-trips-baseline.patch no longer applies: ${error.stderr}`);
  }
});
