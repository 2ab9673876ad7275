import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

const UNIQUE_VIOLATION = '23505';

/**
 * Streams `chunks` of COPY text into `statement` (`copy … from stdin`) under a savepoint.
 * COPY is PostgreSQL's fastest way in but cannot skip rows whose key is already stored:
 * when one is, the savepoint is rolled back and the answer is false, and the caller
 * writes the rows the slow way, skipping what exists. Must run inside a transaction.
 */
export async function copyUnlessStored(db: pg.ClientBase, savepoint: string, statement: string, chunks: Iterable<string>): Promise<boolean> {
  await db.query(`savepoint ${savepoint}`);
  try {
    await pipeline(Readable.from(chunks), db.query(copyFrom(statement)));
  } catch (error) {
    if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
    await db.query(`rollback to savepoint ${savepoint}`);
    return false;
  }
  await db.query(`release savepoint ${savepoint}`);
  return true;
}

/** COPY text of `rows`, one `line` each, in chunks of `rowsPerChunk` rows to stream. */
export function* copyChunks<T>(rows: readonly T[], rowsPerChunk: number, line: (row: T) => string): Generator<string> {
  let chunk = '';
  for (let i = 0; i < rows.length; i++) {
    chunk += line(rows[i]!);
    if ((i + 1) % rowsPerChunk === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

const SPECIAL = /[\\\t\n\r\u0000]/;

/**
 * A text field in COPY text format: backslash, tab, newline and carriage return escaped,
 * U+0000 (which text cannot hold, see pg-text.ts) as U+FFFD.
 */
export function copyText(value: string): string {
  if (!SPECIAL.test(value)) return value;
  return value.replace(/[\\\t\n\r\u0000]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\uFFFD'));
}

/** A nullable text field in COPY text format (`\N` for null). */
export function copyNullable(value: string | null): string {
  return value === null ? '\\N' : copyText(value);
}
