/**
 * The database's COPY ceiling: readings-shaped rows streamed with COPY FROM STDIN into a
 * table like `readings` (same columns, same primary key), in one transaction, rolled
 * back afterwards. What PostgreSQL here can take at most through one connection; the
 * benchmarks print their own rates beside it.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { withClient } from '../storage/index.js';

export async function copyCeilingRowsPerSecond(pool: pg.Pool, rows = 300_000): Promise<number> {
  return withClient(pool, async (client) => {
    await client.query('begin');
    try {
      await client.query('create temp table copy_ceiling (like readings including defaults including constraints including indexes) on commit drop');
      const base = Date.UTC(2030, 0, 1);
      function* lines(): Generator<string> {
        const chunk: string[] = [];
        for (let i = 0; i < rows; i++) {
          chunk.push(`${new Date(base + i * 1000).toISOString()}\t${(i % 1000).toString(16).padStart(16, '0')}\tpm2_5\t\t${i % 97}\tok\tlamp-${i % 1000}\tceiling\n`);
          if (chunk.length === 5000) {
            yield chunk.join('');
            chunk.length = 0;
          }
        }
        if (chunk.length) yield chunk.join('');
      }
      const started = performance.now();
      await pipeline(Readable.from(lines()), client.query(copyFrom('copy copy_ceiling (time, dev_eui, metric, channel, value, quality, asset_id, uplink_id) from stdin')));
      return rows / ((performance.now() - started) / 1000);
    } finally {
      await client.query('rollback');
    }
  });
}
