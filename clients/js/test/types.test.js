// The hand-written types (index.d.ts) compile against the generated ones and describe the API
// as a TypeScript user would call it (test/types-check.ts).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));

test('the package types compile with tsc --strict', async () => {
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));

  const result = await promisify(execFile)(process.execPath, [tsc, '-p', root]).catch((err) => err);

  assert.equal(result.code ?? 0, 0, `tsc failed:\n${result.stdout}${result.stderr}`);
});
