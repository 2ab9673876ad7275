/** Tiny `--name value` / `--flag` parser for the subcommands; unknown options are errors. */
export interface ParsedArgs {
  options: Map<string, string | true>;
  positional: string[];
}

export class UsageError extends Error {}

export function parseArgs(argv: string[], known: Record<string, 'value' | 'flag'>): ParsedArgs {
  const options = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const kind = known[name];
    if (!kind) throw new UsageError(`unknown option --${name} (known: ${Object.keys(known).map((k) => `--${k}`).join(', ')})`);
    if (kind === 'flag') {
      options.set(name, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
    options.set(name, value);
  }
  return { options, positional };
}

export function numberOption(args: ParsedArgs, name: string, fallback: number, min = 0): number {
  const raw = args.options.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw === true || !Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number ≥ ${min} (got ${String(raw)})`);
  return n;
}

/** numberOption for counts: a whole number. */
export function integerOption(args: ParsedArgs, name: string, fallback: number, min = 0): number {
  const n = numberOption(args, name, fallback, min);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number (got ${n})`);
  return n;
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const raw = args.options.get(name);
  return typeof raw === 'string' ? raw : undefined;
}
