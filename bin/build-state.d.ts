/** The package root (the directory of package.json). */
export const root: string;
/** Newest modification time of the product's TypeScript sources, ms. */
export function newestSource(): number;
/** 'fresh', 'stale' (a source changed since the build) or 'missing'. */
export function buildState(): 'fresh' | 'stale' | 'missing';
