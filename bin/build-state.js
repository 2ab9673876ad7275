// Whether dist/ holds a build of the current sources: its stamp (dist/.built, written by
// bin/build.js) is at least as new as every TypeScript source of the product (tests do
// not count: they are not built). Used by bin/stadtfunk.js and the tests' global setup.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '..');
const SOURCE_DIRS = ['ingest', 'decoders', 'storage', 'api', 'simulators', 'bench', 'cli'];

/** Newest modification time of the product's TypeScript sources, ms. */
export function newestSource() {
  let newest = 0;
  const visit = (dir, recurse) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (recurse) visit(file, true);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) {
        newest = Math.max(newest, statSync(file).mtimeMs);
      }
    }
  };
  visit(root, false);
  for (const dir of SOURCE_DIRS) visit(path.join(root, dir), true);
  return newest;
}

/** 'fresh', 'stale' (a source changed since the build) or 'missing'. */
export function buildState() {
  let built;
  try {
    built = statSync(path.join(root, 'dist', '.built')).mtimeMs;
  } catch {
    return 'missing';
  }
  return built >= newestSource() ? 'fresh' : 'stale';
}
