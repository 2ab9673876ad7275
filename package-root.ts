/**
 * The package's root directory, where package.json, web/, storage/migrations/ and
 * decoders/examples/ are. Modules find their non-TypeScript files from here, not from
 * their own location, because they run both as sources (`*.ts` under the root, through
 * tsx in tests) and compiled (`dist/**.js`, what `npm start` runs): from dist/api/web.js
 * a path "../web" would point into dist/, where no web app is.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const packageRoot: string = findRoot(path.dirname(fileURLToPath(import.meta.url)));

/** A path inside the package, e.g. `atRoot('storage', 'migrations')`. */
export function atRoot(...parts: string[]): string {
  return path.join(packageRoot, ...parts);
}

/**
 * A module next to `base` (an import.meta.url) to start in a child process or worker:
 * its `.ts` source with tsx's loader when `base` runs as source, its compiled `.js`
 * without a loader when `base` is compiled.
 */
export function siblingModule(base: string, name: string): { file: string; execArgv: string[] } {
  if (base.endsWith('.js')) return { file: fileURLToPath(new URL(`./${name}.js`, base)), execArgv: [] };
  const source = fileURLToPath(new URL(`./${name}.ts`, base));
  // A source run (the tests) starts the compiled module when dist/ holds a build of the
  // current sources: the same code, without compiling it again in every child (seconds
  // per process on a loaded machine).
  const compiled = path.join(packageRoot, 'dist', path.relative(packageRoot, source).replace(/\.ts$/, '.js'));
  if (existsSync(compiled) && buildIsFresh()) return { file: compiled, execArgv: [] };
  return { file: source, execArgv: ['--import', 'tsx'] };
}

/** dist/.built is newer than every product source (the rule of bin/build-state.js, which is plain JavaScript for the CLI's entry). */
function buildIsFresh(): boolean {
  let built: number;
  try {
    built = statSync(path.join(packageRoot, 'dist', '.built')).mtimeMs;
  } catch {
    return false;
  }
  const newest = (dir: string, recurse: boolean): number => {
    let n = 0;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) n = recurse ? Math.max(n, newest(file, true)) : n;
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) n = Math.max(n, statSync(file).mtimeMs);
    }
    return n;
  };
  let sources = newest(packageRoot, false);
  for (const dir of ['ingest', 'decoders', 'storage', 'api', 'simulators', 'bench', 'cli']) sources = Math.max(sources, newest(path.join(packageRoot, dir), true));
  return built >= sources;
}
