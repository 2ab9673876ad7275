// Entry of the codec worker thread: worker threads do not inherit the TypeScript loader
// the main thread registered, so register it here, then load the worker itself.
import { register } from 'tsx/esm/api';

register();
await import('./codec-worker.ts');
