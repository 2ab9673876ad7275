/**
 * The database's COPY ceiling: readings-shaped rows streamed with COPY FROM STDIN into a
 * table like `readings` (same columns, same primary key and indexes), then dropped. What
 * PostgreSQL here can take at most; the benchmarks print their own rates beside it.
 *
 * The table is an ordinary one, not a temporary table:
 * temporary tables live in each session's small local buffers (temp_buffers, 8 MB by
 * default) and skip the WAL, so they measured a different thing. Here they measured
 * 84,000–95,000 rows/s where the batch writer stored 96,000–102,000 readings/s.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { withClient } from '../storage/index.js';

/**
 * Rows/s of `rows` readings-shaped rows COPYed by `connections` connections at once, each
 * its share in its own transaction. With two connections it is the ceiling for ingest,
 * which keeps two batches in the database at once.
 */
export async function copyCeilingRowsPerSecond(pool: pg.Pool, opts: { rows?: number; connections?: number } = {}): Promise<number> {
  const rows = opts.rows ?? 300_000;
  const connections = opts.connections ?? 1;
  await pool.query('drop table if exists bench_copy_ceiling');
  await pool.query('create table bench_copy_ceiling (like readings including defaults including constraints including indexes)');
  try {
    const share = Math.floor(rows / connections);
    const started = performance.now();
    await Promise.all(Array.from({ length: connections }, (_, c) => withClient(pool, async (client) => {
      await client.query('begin');
      try {
        await pipeline(Readable.from(lines(share, c)), client.query(copyFrom('copy bench_copy_ceiling (time, dev_eui, metric, channel, value, quality, asset_id, uplink_id) from stdin')));
        await client.query('commit');
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw err;
      }
    })));
    return (share * connections) / ((performance.now() - started) / 1000);
  } finally {
    await pool.query('drop table if exists bench_copy_ceiling');
  }
}

/** Tab-separated COPY lines, 5,000 to a chunk; each connection has devices of its own. */
function* lines(rows: number, connection: number): Generator<string> {
  const base = Date.UTC(2030, 0, 1);
  const chunk: string[] = [];
  for (let i = 0; i < rows; i++) {
    chunk.push(`${new Date(base + i * 1000).toISOString()}\t${(connection * 1000 + (i % 1000)).toString(16).padStart(16, '0')}\tpm2_5\t\t${i % 97}\tok\tlamp-${i % 1000}\tceiling\n`);
    if (chunk.length === 5000) {
      yield chunk.join('');
      chunk.length = 0;
    }
  }
  if (chunk.length) yield chunk.join('');
}
