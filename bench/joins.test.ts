import { describe, expect, it } from 'vitest';
import { splitLatencies } from './joins.js';

describe('splitLatencies (the storm’s first second apart from the rest)', () => {
  it('splits by when the first copy went out, leaves out unanswered requests, sorts each side', () => {
    const firstCopyAt = Float64Array.from([0, 400, 999, 1000, 1500, 2000]);
    const acceptAt = Float64Array.from([300, 520, 1100, 1150, 0, 2100]);
    const [cold, warm] = splitLatencies(acceptAt, firstCopyAt, 1000);
    expect(cold).toEqual([101, 120, 300]);
    expect(warm).toEqual([100, 150]);
  });
});
