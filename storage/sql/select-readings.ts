import type pg from 'pg';

export interface ReadingOut {
  time: Date;
  metric: string;
  channel: string;
  value: number;
  quality: string;
}

export interface DeviceReadingsQuery {
  devEui: string;
  metric: string | null;
  from: Date;
  to: Date;
  /** Keyset cursor: the last reading of the previous page; this page continues after it. */
  after: { time: Date; metric: string; channel: string } | null;
  limit: number;
}

/** A device's raw readings, newest first, keyset-paginated by time. Uses the readings primary key. */
export async function selectDeviceReadings(db: pg.Pool | pg.ClientBase, q: DeviceReadingsQuery): Promise<ReadingOut[]> {
  const { rows } = await db.query<ReadingOut>(
    `select time, metric, channel, value, quality
     from readings
     where dev_eui = $1 and ($2::text is null or metric = $2)
       and time >= $3 and time < $4
       and ($5::timestamptz is null or time < $5 or (time = $5 and (metric, channel) > ($6, $7)))
     order by time desc, metric, channel
     limit $8`,
    [q.devEui, q.metric, q.from, q.to, q.after?.time ?? null, q.after?.metric ?? '', q.after?.channel ?? '', q.limit],
  );
  return rows;
}

/** Latest value per metric and channel of one device. */
export async function selectDeviceLatest(db: pg.Pool | pg.ClientBase, devEui: string): Promise<ReadingOut[]> {
  const { rows } = await db.query<ReadingOut>(
    `select time, metric, channel, value, quality from latest_readings where dev_eui = $1 order by metric, channel`,
    [devEui],
  );
  return rows;
}
