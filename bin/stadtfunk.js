#!/usr/bin/env node
// Entry point of the `stadtfunk` command. It runs the compiled JavaScript in dist/ (made
// by `npm run build`, which `npm install` runs as `prepare`), so a start costs Node's own
// time, not TypeScript's. When dist/ is missing, or a source is newer than the build,
// it runs the TypeScript sources through tsx instead (seconds slower to start, never
// stale) and says so on stderr.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildState, root } from './build-state.js';

const state = buildState();
let main;
if (state === 'fresh') {
  ({ main } = await import(pathToFileURL(path.join(root, 'dist', 'cli', 'main.js')).href));
} else {
  console.error(`stadtfunk: ${state === 'missing' ? 'no build in dist/' : 'the sources are newer than dist/'}; running them through tsx (slow to start). \`npm run build\` compiles them.`);
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
const code = await main(process.argv.slice(2));
// Exit explicitly: some commands leave sockets to the OS on purpose (and tsx's loader
// keeps the event loop alive). Output written so far is flushed by then.
process.exit(code);
