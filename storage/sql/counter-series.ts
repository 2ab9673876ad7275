import type pg from 'pg';

/**
 * A counter's reported values of one device and metric in [from, to), per channel and
 * oldest first, each channel preceded by its last value before `from` (looked for up to
 * 31 days back) as the base of the first increment (decoders/counter-increments.ts).
 */
export async function selectCounterSeries(
  db: pg.Pool | pg.ClientBase,
  q: { devEui: string; metric: string; from: Date; to: Date },
): Promise<{ channel: string; time: Date; value: number }[]> {
  const { rows } = await db.query<{ channel: string; time: Date; value: number }>(
    `select channel, time, value from (
       (select distinct on (channel) channel, time, value from readings
        where dev_eui = $1 and metric = $2 and time < $3 and time >= $3 - interval '31 days'
        order by channel, time desc)
       union all
       (select channel, time, value from readings
        where dev_eui = $1 and metric = $2 and time >= $3 and time < $4)
     ) r
     order by channel, time`,
    [q.devEui, q.metric, q.from, q.to],
  );
  return rows;
}
