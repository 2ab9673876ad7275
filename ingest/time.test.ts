import { describe, expect, it } from 'vitest';
import { timeProblem } from './time.js';

describe('timeProblem', () => {
  it('takes 1970-01-01 up to the last millisecond of 9999', () => {
    for (const t of ['1970-01-01T00:00:00.000Z', '2026-12-02T09:00:00Z', '9999-12-31T23:59:59.999Z']) expect(timeProblem(new Date(t)), t).toBeNull();
  });

  it('names what is wrong with an invalid time or one outside that range', () => {
    expect(timeProblem(new Date('yesterday'))).toBe('is not a time');
    for (const t of ['1969-12-31T23:59:59.999Z', '0000-01-01T00:00:00Z', '+010000-01-01T00:00:00Z', '-000001-01-01T00:00:00Z']) {
      expect(timeProblem(new Date(t)), t).toMatch(/outside 1970-01-01 … 9999-12-31/);
    }
  });
});
