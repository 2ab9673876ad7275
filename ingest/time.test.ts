import { describe, expect, it } from 'vitest';
import { parseRfc3339, timeProblem } from './time.js';

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

describe('parseRfc3339', () => {
  const ms = (text: string): number | string => {
    const r = parseRfc3339(text);
    return 'time' in r ? r.time.getTime() : r.problem;
  };

  it('takes RFC 3339 times with Z or an offset, fractions of any length', () => {
    expect(ms('2026-11-24T12:00:00Z')).toBe(Date.UTC(2026, 10, 24, 12));
    expect(ms('2026-11-24t12:00:00z')).toBe(Date.UTC(2026, 10, 24, 12));
    expect(ms('2026-11-24T12:00:00.5Z')).toBe(Date.UTC(2026, 10, 24, 12, 0, 0, 500));
    expect(ms('2026-11-24T12:00:00.123Z')).toBe(Date.UTC(2026, 10, 24, 12, 0, 0, 123));
    // Nanoseconds as Go writes them: cut to milliseconds, never rounded into the next second.
    expect(ms('2026-11-24T12:00:59.999999999Z')).toBe(Date.UTC(2026, 10, 24, 12, 0, 59, 999));
    expect(ms('2026-11-24T13:30:00+01:30')).toBe(Date.UTC(2026, 10, 24, 12));
    expect(ms('2026-11-24T07:00:00-05:00')).toBe(Date.UTC(2026, 10, 24, 12));
    expect(ms('2026-11-24T12:00:00-00:00')).toBe(Date.UTC(2026, 10, 24, 12));
    expect(ms('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(ms('2000-02-29T23:59:59Z')).toBe(Date.UTC(2000, 1, 29, 23, 59, 59));
    expect(ms('1970-01-01T00:00:00Z')).toBe(0);
    expect(ms('9999-12-31T23:59:59.999Z')).toBe(Date.UTC(9999, 11, 31, 23, 59, 59, 999));
  });

  it('refuses what JavaScript bends into another time (issue 26)', () => {
    expect(ms('2026-02-30T10:00:00Z')).toBe('has no day 30: 2026-02 has 28 days');
    expect(ms('2026-11-24T24:00:00Z')).toBe('has hour 24; hours run 00–23');
    expect(ms('1')).toMatch(/^is not an RFC 3339 time with an offset/);
    expect(ms('2026-11-24T12:00:00')).toMatch(/^is not an RFC 3339 time with an offset/);
  });

  it('refuses impossible calendar days, clock fields and offsets', () => {
    expect(ms('2025-02-29T00:00:00Z')).toBe('has no day 29: 2025-02 has 28 days');
    expect(ms('1900-02-29T00:00:00Z')).toBe('has no day 29: 1900-02 has 28 days');
    expect(ms('2026-04-31T00:00:00Z')).toBe('has no day 31: 2026-04 has 30 days');
    expect(ms('2026-01-00T00:00:00Z')).toBe('has no day 00: 2026-01 has 31 days');
    expect(ms('2026-13-01T00:00:00Z')).toBe('has no month 13');
    expect(ms('2026-00-01T00:00:00Z')).toBe('has no month 00');
    expect(ms('2026-11-24T12:60:00Z')).toBe('has minute 60; minutes run 00–59');
    expect(ms('2026-12-31T23:59:60Z')).toBe('has second 60; seconds run 00–59 (leap seconds are not taken)');
    expect(ms('2026-11-24T12:00:00+24:00')).toBe('has no offset +24:00');
    expect(ms('2026-11-24T12:00:00+01:60')).toBe('has no offset +01:60');
  });

  it('refuses other ISO 8601 and Date forms', () => {
    for (const text of [
      '', 'yesterday', '2026-11-24', '2026-11-24T12:00Z', '2026-11-24 12:00:00Z', '20261124T120000Z', '2026-11-24T12:00:00+0100',
      '2026-11-24T12:00:00+01', '2026-11-24T12:00:00.Z', '+002026-11-24T12:00:00Z', ' 2026-11-24T12:00:00Z', '2026-11-24T12:00:00Z ',
      'Tue, 24 Nov 2026 12:00:00 GMT', '2026-W48-2T12:00:00Z', '２０２６-11-24T12:00:00Z',
    ]) {
      expect(ms(text), text).toMatch(/^is not an RFC 3339 time with an offset/);
    }
  });

  it('refuses times outside 1970-01-01 … 9999-12-31, offsets included', () => {
    for (const text of ['1969-12-31T23:59:59.999Z', '0000-01-01T00:00:00Z', '0070-01-01T00:00:00Z', '1970-01-01T00:30:00+01:00', '9999-12-31T23:00:00-01:00']) {
      expect(ms(text), text).toBe('lies outside 1970-01-01 … 9999-12-31');
    }
  });
});
