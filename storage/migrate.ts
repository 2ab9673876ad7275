/**
 * Forward-only migrations from storage/migrations/NNNN_name[.variant].sql.
 *
 * Variant `timescale` files run only where the TimescaleDB extension can be used,
 * `postgres` files only where it cannot; plain files run everywhere. Each file runs
 * in its own transaction. A session advisory lock makes two processes starting at
 * once apply each file exactly once; running again applies nothing.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { atRoot } from '../package-root.js';
import { withClient } from './database.js';
import { detectTimescale } from './timescale.js';

const MIGRATIONS_DIR = atRoot('storage', 'migrations');
/** Arbitrary constant: the advisory lock id of stadtfunk migrations. */
const LOCK_ID = 7_115_001;

export interface Migration {
  version: number;
  name: string;
  variant: 'all' | 'timescale' | 'postgres';
  file: string;
}

export async function listMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return files.map((file) => {
    const m = /^(\d{4})_([a-z0-9_]+?)(?:\.(timescale|postgres))?\.sql$/.exec(file);
    if (!m) throw new Error(`migration file name ${file} is not NNNN_name[.timescale|.postgres].sql`);
    return { version: Number(m[1]), name: m[2]!, variant: (m[3] as 'timescale' | 'postgres' | undefined) ?? 'all', file };
  });
}

export interface MigrateResult {
  applied: string[];
  timescale: boolean;
}

export async function migrate(pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<MigrateResult> {
  return withClient(pool, async (client) => {
    try {
      await client.query('select pg_advisory_lock($1)', [LOCK_ID]);
      await client.query(`create table if not exists schema_migrations (
        file text primary key,
        applied_at timestamptz not null default now())`);
      const timescale = await detectTimescale(client);
      const done = new Set((await client.query<{ file: string }>('select file from schema_migrations')).rows.map((r) => r.file));
      const applied: string[] = [];
      for (const migration of await listMigrations(dir)) {
        if (done.has(migration.file)) continue;
        if (migration.variant === 'timescale' && !timescale) continue;
        if (migration.variant === 'postgres' && timescale) continue;
        const sql = await fs.readFile(path.join(dir, migration.file), 'utf8');
        // TimescaleDB policies and continuous aggregates cannot be created inside a transaction block.
        const transactional = !/^--\s*stadtfunk:no-transaction/m.test(sql);
        try {
          if (transactional) await client.query('begin');
          if (transactional) await client.query(sql);
          // Outside a transaction, several statements in one query would still form one implicit
          // transaction block: run them one by one (these files hold no function bodies).
          else for (const statement of splitStatements(sql)) await client.query(statement);
          await client.query('insert into schema_migrations (file) values ($1)', [migration.file]);
          if (transactional) await client.query('commit');
        } catch (error) {
          if (transactional) await client.query('rollback').catch(() => undefined);
          throw new Error(`migration ${migration.file} failed: ${(error as Error).message}`, { cause: error });
        }
        applied.push(migration.file);
      }
      return { applied, timescale };
    } finally {
      await client.query('select pg_advisory_unlock($1)', [LOCK_ID]).catch(() => undefined);
    }
  });
}

/** Statements of a migration file: split at semicolons that end a line, comments dropped. */
export function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}
