import type { Writable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

const UNIQUE_VIOLATION = '23505';

/**
 * A COPY met a key that is already stored. COPY cannot skip such rows, and the error
 * aborts the transaction: the caller rolls it back and writes the batch again the slow
 * way, skipping what exists (see storage/writer.ts).
 */
export class StoredKeyError extends Error {
  constructor(readonly table: 'uplinks' | 'readings', options: { cause: unknown }) {
    super(`COPY into ${table} met a key that is already stored`, options);
    this.name = 'StoredKeyError';
  }
}

/**
 * Streams `chunks` of COPY text into `statement` (`copy … from stdin`). A key already
 * stored rejects with StoredKeyError, and the transaction is then aborted. No savepoint
 * guards it: one cost two more round trips per COPY, each waiting for the service's
 * event loop, for a case that is rare (redeliveries, a reading's time repeated). Must
 * run inside a transaction.
 */
export async function copyIn(db: pg.ClientBase, table: 'uplinks' | 'readings', statement: string, chunks: Iterable<string>): Promise<void> {
  try {
    await writeChunks(db.query(copyFrom(statement)), chunks);
  } catch (error) {
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw new StoredKeyError(table, { cause: error });
    throw error;
  }
}

/**
 * Writes the chunks into the COPY stream, waiting for 'drain' when it asks to, and
 * resolves once the server has taken them all (the stream's 'finish' comes after its
 * ReadyForQuery). A chunk that cannot be made ends the COPY with CopyFail (destroy).
 *
 * Design note. This was stream.pipeline(Readable.from(chunks), copy): the same writes,
 * but per COPY a Readable, an AbortController whose AbortError (with its stack) is made
 * when the pipeline ends, and two end-of-stream watchers with their async resources.
 * Allocation profiles of `bench joins` found those objects surviving young-generation
 * collections as often as the batch's own (65–85 %), two COPYs a batch.
 */
function writeChunks(copy: Writable, chunks: Iterable<string>): Promise<void> {
  return new Promise((resolve, reject) => {
    copy.once('error', reject);
    copy.once('finish', resolve);
    const iterator = chunks[Symbol.iterator]();
    const write = (): void => {
      try {
        for (let next = iterator.next(); !next.done; next = iterator.next()) {
          if (!copy.write(next.value)) {
            copy.once('drain', write);
            return;
          }
        }
        copy.end();
      } catch (error) {
        copy.destroy(error as Error);
      }
    };
    write();
  });
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
