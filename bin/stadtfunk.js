#!/usr/bin/env node
// Entry point of the `stadtfunk` command: runs the TypeScript sources through tsx,
// so there is no build step between `npm install` and `npm start`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
const code = await main(process.argv.slice(2));
// Exit explicitly: the loader keeps the event loop alive, and some commands leave
// sockets to the OS on purpose. Output written so far is flushed by then.
process.exit(code);
