#!/usr/bin/env node
// `npm run build`, also run by `prepare` on `npm install` in a checkout: compiles the
// product's TypeScript (not its tests) to dist/, which bin/stadtfunk.js runs, and stamps
// the build (dist/.built) so that a later change to a source is noticed there.
// Without TypeScript (an install without dev dependencies) it says so and builds nothing:
// bin/stadtfunk.js then runs the sources through tsx, slower to start but the same code.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
let tsc;
try {
  tsc = path.join(path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
} catch {
  console.error('stadtfunk build: TypeScript is not installed (dev dependency); dist/ not built, the CLI will run the sources through tsx');
  process.exit(0);
}
// From scratch: a module deleted from the sources must not live on in dist/.
fs.rmSync(dist, { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  fs.rmSync(dist, { recursive: true, force: true });
  console.error(`stadtfunk build: tsc failed (${result.signal ?? `exit code ${result.status}`}); dist/ removed`);
  process.exit(1);
}
fs.writeFileSync(path.join(dist, '.built'), `${new Date().toISOString()}\n`);
