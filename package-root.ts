/**
 * The package's root directory, where package.json, web/, storage/migrations/ and
 * decoders/examples/ are. Modules find their non-TypeScript files from here, not from
 * their own location, because they run both as sources (`*.ts` under the root, through
 * tsx in tests) and compiled (`dist/**.js`, what `npm start` runs): from dist/api/web.js
 * a path "../web" would point into dist/, where no web app is.
 */
import { existsSync } from 'node:fs';
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
  const compiled = base.endsWith('.js');
  return { file: fileURLToPath(new URL(`./${name}.${compiled ? 'js' : 'ts'}`, base)), execArgv: compiled ? [] : ['--import', 'tsx'] };
}
