import { describe, expect, it } from 'vitest';
import { refusedByDatabase } from './database.js';

/** SQLSTATE codes: PostgreSQL 15 documentation, Appendix A "PostgreSQL Error Codes". */
function pgError(code: string): Error {
  return Object.assign(new Error('x'), { code });
}

describe('refusedByDatabase', () => {
  it('holds for errors in the rows themselves', () => {
    for (const code of ['21000', '22008', '22P02', '22021', '23505', '23514', '54000']) expect(refusedByDatabase(pgError(code)), code).toBe(true);
    expect(refusedByDatabase(new RangeError('Invalid time value'))).toBe(true);
    expect(refusedByDatabase(new TypeError('x is undefined'))).toBe(true);
  });

  it('does not hold for what may pass: connection, deadlock, resources, shutdown, socket errors', () => {
    for (const code of ['08006', '40001', '40P01', '53100', '53300', '55P03', '57P01', '57014', '58030', 'ECONNREFUSED', 'ECONNRESET']) {
      expect(refusedByDatabase(pgError(code)), code).toBe(false);
    }
    expect(refusedByDatabase(new Error('Connection terminated unexpectedly'))).toBe(false);
    expect(refusedByDatabase(null)).toBe(false);
    expect(refusedByDatabase('text')).toBe(false);
  });
});
