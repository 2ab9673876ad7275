import { describe, expect, it } from 'vitest';
import { integerOption, numberOption, parseArgs, UsageError } from './args.js';

describe('parseArgs', () => {
  it('reads values, inline values, flags and positionals', () => {
    const a = parseArgs(['create', '--role', 'admin', '--name=ops', '--dry'], { role: 'value', name: 'value', dry: 'flag' });
    expect(a.positional).toEqual(['create']);
    expect(Object.fromEntries(a.options)).toEqual({ role: 'admin', name: 'ops', dry: true });
  });

  it('names the unknown option and the missing value', () => {
    expect(() => parseArgs(['--nope'], { rate: 'value' })).toThrow(/unknown option --nope \(known: --rate\)/);
    expect(() => parseArgs(['--rate'], { rate: 'value' })).toThrow(UsageError);
    expect(() => numberOption(parseArgs(['--rate', 'fast'], { rate: 'value' }), 'rate', 1)).toThrow(/--rate must be a number/);
  });

  it('takes whole numbers only where a count is asked for', () => {
    const workers = (v: string) => integerOption(parseArgs(['--workers', v], { workers: 'value' }), 'workers', 1, 1);
    expect(workers('2')).toBe(2);
    expect(() => workers('1.5')).toThrow(/--workers must be a whole number \(got 1.5\)/);
    expect(() => workers('0')).toThrow(/--workers must be a number ≥ 1/);
    expect(integerOption(parseArgs([], { workers: 'value' }), 'workers', 1, 1)).toBe(1);
  });
});
